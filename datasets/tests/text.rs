//! The character-level corpus and bundled Tiny Shakespeare.

mod common;

use common::TempDir;
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_datasets::{CharCorpus, DataLoader, Dataset, DatasetError, TextSplit, Vocab};

#[test]
fn tiny_shakespeare_has_the_documented_contents() {
    let c = CharCorpus::tiny_shakespeare();
    assert_eq!(c.len(), 1_115_394);
    assert_eq!(c.vocab().len(), 65);
    assert_eq!(c.train().len(), 1_003_854);
    assert_eq!(c.validation().len(), 111_540);
    assert_eq!(c.vocab().chars()[0], '\n');
    assert_eq!(c.vocab().chars()[1], ' ');
    assert_eq!(c.vocab().decode(&c.tokens()[..14]), "First Citizen:");
    assert!(CharCorpus::tiny_shakespeare_text().starts_with("First Citizen:\nBefore we proceed"));
}

#[test]
fn vocab_encodes_and_decodes() {
    let v = Vocab::from_text("hello, wörld");
    assert_eq!(
        v.chars(),
        &[' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w', 'ö']
    );
    let ids = v.encode("wörld hello").unwrap();
    assert_eq!(v.decode(&ids), "wörld hello");
    assert_eq!(v.index_of('ö'), Some(9));
    assert_eq!(v.index_of('z'), None);
    let e = v.encode("held!").unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::UnknownChar {
                ch: '!',
                position: 4
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("'!'"), "{e}");
}

#[test]
fn random_batches_have_next_character_targets() {
    let c = CharCorpus::tiny_shakespeare();
    let mut rng = StdRng::seed_from_u64(1);
    let b = c.random_batch(TextSplit::Train, 8, 32, &mut rng);
    assert_eq!((b.inputs.len(), b.targets.len()), (256, 256));
    for row in 0..8 {
        let x = &b.inputs[row * 32..(row + 1) * 32];
        let y = &b.targets[row * 32..(row + 1) * 32];
        assert_eq!(&x[1..], &y[..31]);
    }
    assert_eq!(b.input_tensor().shape(), &[8, 32]);
    assert_eq!(b.target_tensor().get(&[0, 0]), b.targets[0] as f32);
    let oh = b.one_hot_inputs(65);
    assert_eq!(oh.shape(), &[8, 32, 65]);
    assert_eq!(oh.get(&[0, 0, b.inputs[0]]), 1.0);
    assert_eq!(oh.to_vec().iter().sum::<f32>(), 256.0);
    let v = c.random_batch(TextSplit::Validation, 2, 16, &mut rng);
    assert_eq!(v.batch, 2);
}

#[test]
fn sequential_batches_continue_each_stream() {
    let text: String = (0..1000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let c = CharCorpus::new(&text).with_train_fraction(1.0);
    let batches: Vec<_> = c.sequential_batches(TextSplit::Train, 4, 10).collect();
    // 4 streams of 250 characters: 24 batches of 10 steps (the target needs one more).
    assert_eq!(batches.len(), 24);
    for w in batches.windows(2) {
        for row in 0..4 {
            let last = w[0].targets[row * 10 + 9];
            assert_eq!(w[1].inputs[row * 10], last);
        }
    }
    assert_eq!(batches[0].inputs[10], 250 % 26);
    assert!(c.validation().is_empty());
}

#[test]
fn sequence_dataset_feeds_the_loader() {
    let c = CharCorpus::tiny_shakespeare();
    let ds = c.sequences(TextSplit::Validation, 100);
    assert_eq!(ds.len(), (111_540 - 1) / 100);
    let (x, y) = ds.window(3);
    assert_eq!(x[1..], y[..99]);
    let mut loader = DataLoader::new(ds, 16).with_shuffle(2).with_drop_last(true);
    let b = loader.iter().next().unwrap();
    assert_eq!(b.inputs.shape(), &[16, 100]);
    assert_eq!(b.targets.shape(), &[16, 100]);
    assert_eq!(b.inputs.get(&[0, 1]), b.targets.get(&[0, 0]));
}

#[test]
fn text_files_and_their_errors() {
    let dir = TempDir::new("text");
    let p = dir.join("ok.txt");
    std::fs::write(&p, "abcabc\n").unwrap();
    let c = CharCorpus::from_file(&p).unwrap();
    assert_eq!(c.vocab().len(), 4);
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"abc\xffdef").unwrap();
    let e = CharCorpus::from_file(&bad).unwrap_err();
    assert!(
        matches!(e, DatasetError::InvalidUtf8 { offset: 3, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("bad.txt") && e.to_string().contains("offset 3"));
    let e = CharCorpus::from_file(dir.join("missing.txt")).unwrap_err();
    assert!(matches!(e, DatasetError::Io { .. }));
}
