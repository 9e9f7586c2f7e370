//! Writer → reader: every record's checksums verified, every logged value recovered exactly,
//! a cut-short tail skipped with a warning, a damaged record refused, a resumed run trimmed.

use std::path::PathBuf;
use std::time::Duration;

use strata_tensorboard::proto::event;
use strata_tensorboard::record::FRAMING_BYTES;
use strata_tensorboard::{
    FILE_VERSION, HParams, Image, RunStatus, SummaryWriter, TensorBoardError, event_files,
    read_event_file, read_run, trim_run,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-tb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A run with every kind of value.
fn write_run(dir: &PathBuf) -> PathBuf {
    let mut log = SummaryWriter::create(dir).unwrap();
    log.add_hparams(&HParams::new().with("lr", 0.01).with("optimizer", "sgd"))
        .unwrap();
    log.add_text("config", "epochs = 3", 0).unwrap();
    for step in 1..=3 {
        let s = step as f64;
        log.add_scalars(step, &[("loss", 1.0 / s), ("lr", 0.01 * s)])
            .unwrap();
        log.add_histogram("w", (0..100).map(|i| f64::from(i) * s), step)
            .unwrap();
    }
    let pixels: Vec<u8> = (0..6 * 4 * 3).map(|i| i as u8).collect();
    log.add_image("grid", &Image::rgb(6, 4, pixels), 3).unwrap();
    log.end_run(RunStatus::Success).unwrap();
    log.flush().unwrap();
    log.path().to_path_buf()
}

#[test]
fn every_value_comes_back() {
    let dir = scratch("values");
    let file = write_run(&dir);
    assert!(
        file.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("events.out.tfevents."),
        "{}",
        file.display()
    );
    let log = read_event_file(&file).unwrap();
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    assert_eq!(
        log.events[0].what,
        Some(event::What::FileVersion(FILE_VERSION.to_string()))
    );
    assert_eq!(
        log.scalars("loss"),
        vec![(1, 1.0), (2, 0.5), (3, (1.0f64 / 3.0) as f32)]
    );
    assert_eq!(
        log.scalars("lr"),
        vec![(1, 0.01), (2, 0.02), (3, 0.03f64 as f32)]
    );
    let hists = log.histograms("w");
    assert_eq!(hists.len(), 3);
    let (step, h) = hists[2];
    assert_eq!(step, 3);
    assert_eq!((h.min, h.max, h.num), (0.0, 297.0, 100.0));
    assert_eq!(h.sum, (0..100).map(|i| 3.0 * f64::from(i)).sum::<f64>());
    assert_eq!(h.bucket.len(), 31);
    assert_eq!(h.bucket.iter().sum::<f64>(), 100.0);
    let images = log.images("grid");
    assert_eq!(images.len(), 1);
    let (_, img) = images[0];
    assert_eq!((img.width, img.height, img.colorspace), (6, 4, 3));
    let decoded = png::Decoder::new(std::io::Cursor::new(&img.encoded_image_string[..]))
        .read_info()
        .unwrap();
    assert_eq!((decoded.info().width, decoded.info().height), (6, 4));
    assert_eq!(log.texts("config"), vec![(0, "epochs = 3".to_string())]);
    let tags = log.tags();
    for tag in ["_hparams_/session_start_info", "_hparams_/session_end_info"] {
        assert!(tags.contains(tag), "{tag} missing from {tags:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A crash cuts short the last record at any byte: the reader keeps every earlier record and
/// warns; `trim_run` removes the torn tail.
#[test]
fn a_cut_short_tail_is_a_warning() {
    let dir = scratch("torn");
    let file = write_run(&dir);
    let whole = std::fs::read(&file).unwrap();
    let complete = read_event_file(&file).unwrap().events.len();
    for cut in [1, 5, FRAMING_BYTES - 1, FRAMING_BYTES + 3] {
        std::fs::write(&file, &whole[..whole.len() - cut]).unwrap();
        let log = read_event_file(&file).unwrap();
        assert_eq!(log.events.len(), complete - 1, "cut {cut}");
        assert_eq!(log.warnings.len(), 1, "cut {cut}");
        assert!(
            log.warnings[0].contains("incomplete"),
            "{}",
            log.warnings[0]
        );
    }
    trim_run(&dir, |_, _| true).unwrap();
    let log = read_event_file(&file).unwrap();
    assert!(log.warnings.is_empty());
    assert_eq!(log.events.len(), complete - 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A flipped byte inside an earlier record is an error naming the file and the offset.
#[test]
fn a_damaged_record_is_an_error() {
    let dir = scratch("damaged");
    let file = write_run(&dir);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let err = read_event_file(&file).unwrap_err();
    assert!(matches!(err, TensorBoardError::Corrupt { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("byte") && message.contains(&*file.to_string_lossy()),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A resumed run trims the steps it will log again and appends a second file: the run reads
/// as one series without duplicate steps.
#[test]
fn a_resumed_run_has_no_duplicate_steps() {
    let dir = scratch("resume");
    {
        let mut log = SummaryWriter::create(&dir).unwrap();
        for step in 1..=5 {
            log.add_scalar("loss", step as f64, step).unwrap();
        }
        log.flush().unwrap();
    }
    // The checkpoint was taken after step 3: steps 4 and 5 are redone.
    assert_eq!(trim_run(&dir, |_, step| step <= 3).unwrap(), 2);
    let mut log = SummaryWriter::create(&dir).unwrap();
    for step in 4..=6 {
        log.add_scalar("loss", 10.0 * step as f64, step).unwrap();
    }
    log.flush().unwrap();
    assert_eq!(event_files(&dir).unwrap().len(), 2);
    let run = read_run(&dir).unwrap();
    assert_eq!(
        run.scalars("loss"),
        vec![
            (1, 1.0),
            (2, 2.0),
            (3, 3.0),
            (4, 40.0),
            (5, 50.0),
            (6, 60.0)
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_folder_is_an_error_naming_it() {
    let dir = scratch("blocked");
    std::fs::write(&dir, b"a file where the folder should be").unwrap();
    let err = SummaryWriter::create(dir.join("run"))
        .err()
        .expect("cannot create");
    assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");
    std::fs::remove_file(&dir).unwrap();
}

/// A fresh run trims everything: files left without a value are deleted, not kept empty.
#[test]
fn trimming_everything_deletes_the_emptied_files() {
    let dir = scratch("fresh");
    write_run(&dir);
    write_run(&dir);
    assert_eq!(event_files(&dir).unwrap().len(), 2);
    assert!(trim_run(&dir, |_, _| false).unwrap() > 0);
    assert!(event_files(&dir).unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The flush interval decides when buffered events reach the file; the bucket count and an
/// RGBA image's four channels come back as set.
#[test]
fn writer_settings_take_effect() {
    let dir = scratch("settings");
    let mut slow = SummaryWriter::create(dir.join("slow"))
        .unwrap()
        .with_flush_interval(Duration::from_secs(3600));
    slow.add_scalars(1, &[("loss", 0.5)]).unwrap();
    assert!(
        read_event_file(slow.path())
            .unwrap()
            .scalars("loss")
            .is_empty()
    );
    slow.flush().unwrap();
    assert_eq!(
        read_event_file(slow.path()).unwrap().scalars("loss"),
        vec![(1, 0.5)]
    );

    let mut log = SummaryWriter::create(dir.join("eager"))
        .unwrap()
        .with_flush_interval(Duration::ZERO)
        .with_histogram_bins(4);
    log.add_histogram("w", (0..8).map(f64::from), 1).unwrap();
    let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
    log.add_image("rgba", &Image::rgba(2, 3, pixels.clone()), 1)
        .unwrap();
    // Written without a flush.
    let events = read_event_file(log.path()).unwrap();
    assert_eq!(events.histograms("w")[0].1.bucket.len(), 4 + 1);
    let (_, img) = events.images("rgba")[0];
    assert_eq!((img.width, img.height, img.colorspace), (2, 3, 4));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(&img.encoded_image_string[..]))
        .read_info()
        .unwrap();
    assert_eq!(decoder.info().color_type, png::ColorType::Rgba);
    let mut decoded = vec![0; decoder.output_buffer_size().unwrap()];
    decoder.next_frame(&mut decoded).unwrap();
    assert_eq!(decoded, pixels);
    std::fs::remove_dir_all(&dir).unwrap();
}
