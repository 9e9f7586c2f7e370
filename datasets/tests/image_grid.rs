//! The PNG grid writer.

mod common;

use common::TempDir;
use strata_datasets::{DatasetError, Grid, GridScaling, write_png_grid};

#[test]
fn layout_padding_and_scaling() {
    // Two tiles of 2×2: [0, 1, 2, 3] and [10, 10, 10, 20].
    let tiles = [0.0, 1.0, 2.0, 3.0, 10.0, 10.0, 10.0, 20.0];
    let img = Grid::new(1, 2, 2, 2).render(&tiles);
    assert_eq!((img.width, img.height), (7, 4));
    let px = |x: usize, y: usize| img.pixels[y * 7 + x];
    assert_eq!(px(0, 0), 128, "padding");
    assert_eq!((px(1, 1), px(2, 1), px(1, 2), px(2, 2)), (0, 85, 170, 255)); // per tile
    assert_eq!((px(4, 1), px(5, 2)), (0, 255));
    let g = Grid::new(1, 2, 2, 2)
        .with_scaling(GridScaling::Global)
        .render(&tiles);
    assert_eq!(g.pixels[7 + 1], 0);
    assert_eq!(g.pixels[7 + 4], 128); // 10 of 0..20
    let f = Grid::new(1, 2, 2, 2)
        .with_scaling(GridScaling::Fixed { min: 0.0, max: 2.0 })
        .with_padding(0, 0)
        .render(&tiles);
    assert_eq!((f.width, f.height), (4, 2));
    assert_eq!(f.pixels, vec![0, 128, 255, 255, 255, 255, 255, 255]);
    // Zoom, missing tiles, constant and non-finite tiles.
    let z = Grid::new(2, 2, 1, 1)
        .with_zoom(3)
        .with_padding(1, 7)
        .render(&[1.0, f32::NAN]);
    assert_eq!((z.width, z.height), (9, 9));
    assert_eq!(z.pixels[9 + 1], 0); // constant tile → black
    assert_eq!(z.pixels[9 + 5], 0); // NaN → black
    assert_eq!(z.pixels[5 * 9 + 1], 7); // missing tile stays padding
}

#[test]
#[should_panic(expected = "are not at most 1×1 tiles")]
fn too_many_tiles_panic() {
    let _ = Grid::new(1, 1, 2, 2).render(&[0.0; 8]);
}

#[test]
fn writes_a_png_that_decodes_back() {
    let dir = TempDir::new("grid");
    let path = dir.join("digits.png");
    let m = common::bundled();
    let tiles = m.train.to_f32()[..100 * 784].to_vec();
    write_png_grid(
        &path,
        &tiles,
        (10, 10),
        (28, 28),
        GridScaling::Fixed { min: 0.0, max: 1.0 },
    )
    .unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (291, 291));
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    // The first digit's pixels, in place at (1, 1).
    for y in 0..28 {
        for x in 0..28 {
            assert_eq!(buf[(1 + y) * 291 + 1 + x], m.train.image(0)[y * 28 + x]);
        }
    }
    let e = Grid::new(1, 1, 1, 1)
        .write_png(&[0.0], dir.join("no/such/dir.png"))
        .unwrap_err();
    assert!(matches!(e, DatasetError::Io { .. }), "{e:?}");
}
