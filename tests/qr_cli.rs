//! `kakehashi merchant qr` as an operator runs it: a config file in, the static payload out,
//! and a PNG that a QR reader decodes back to the same payload.
use std::path::{Path, PathBuf};

use kakehashi::qr::QrSettings;
use kakehashi::qr::cli::{MerchantCommand, QrArgs, run};
use kakehashi::qr::image::{MODULE_PX, QUIET_ZONE_MODULES, render_png};
use kakehashi::qr::jpqr::Jpqr;
use kakehashi::qr::merchant::identify;
use kakehashi::qr::mpm::{Initiation, Payload};

const CONFIG: &str = r#"
listen = "127.0.0.1:0"
store_url = "sqlite://unused.db"

[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = []
qr = { name = "SHINJUKU RAMEN", city = "TOKYO", postal_code = "1600022", name_ja = "新宿らーめん", jpqr_merchant_id = "0000000000001-0001-000001-000001" }

[[terminals]]
id = "till-1"
merchant_id = "shinjuku-ramen"
store_id = "shinjuku-east"
api_key = "till-1-development-key"
"#;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("kakehashi.toml");
    std::fs::write(&path, CONFIG).unwrap();
    path
}

fn qr(
    config: PathBuf,
    merchant: &str,
    terminal: Option<&str>,
    png: Option<PathBuf>,
) -> Result<String, String> {
    run(&MerchantCommand::Qr(QrArgs {
        config,
        merchant: merchant.to_owned(),
        terminal: terminal.map(str::to_owned),
        png,
    }))
}

/// Decodes a greyscale PNG to (width, height, one luminance byte per pixel).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    pixels.truncate(frame.buffer_size());
    (frame.width, frame.height, pixels)
}

/// What a phone's QR reader would see in the picture.
fn scan(png_bytes: &[u8]) -> String {
    let (width, height, pixels) = decode_png(png_bytes);
    let (w, h) = (width as usize, height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

#[test]
fn the_command_prints_the_static_code_and_writes_a_png_that_scans_back() {
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("shinjuku-ramen.png");
    let out = qr(
        write_config(dir.path()),
        "shinjuku-ramen",
        None,
        Some(png_path.clone()),
    )
    .unwrap();
    let mut lines = out.lines();
    let payload = lines.next().unwrap();
    assert!(lines.next().unwrap().starts_with("# wrote "));

    let parsed = Payload::parse(payload).unwrap();
    assert_eq!(parsed.initiation(), Some(Initiation::Static));
    assert!(Jpqr::validate(&parsed).is_ok());
    let code = identify(&QrSettings::default(), payload).unwrap();
    assert_eq!(code.merchant_id, "shinjuku-ramen");

    let bytes = std::fs::read(&png_path).unwrap();
    assert_eq!(bytes[..8], PNG_SIGNATURE);
    let image = render_png(payload).unwrap();
    let (width, height, _) = decode_png(&bytes);
    let side = (image.modules + 2 * QUIET_ZONE_MODULES) * MODULE_PX;
    assert_eq!((width, height), (side, side));
    // The Japanese name travels in byte mode as UTF-8 and comes back intact.
    assert_eq!(scan(&bytes), payload);
}

#[test]
fn a_terminal_code_names_its_store_and_till() {
    let dir = tempfile::tempdir().unwrap();
    let out = qr(
        write_config(dir.path()),
        "shinjuku-ramen",
        Some("till-1"),
        None,
    )
    .unwrap();
    assert_eq!(out.lines().count(), 1);
    let code = identify(&QrSettings::default(), &out).unwrap();
    assert_eq!(code.store_id.as_deref(), Some("shinjuku-east"));
    assert_eq!(code.terminal_id.as_deref(), Some("till-1"));
}

#[test]
fn unknown_merchants_and_terminals_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let error = qr(config.clone(), "kyoto-tea", None, None).unwrap_err();
    assert_eq!(error, "no merchant `kyoto-tea` in the config");
    let error = qr(config, "shinjuku-ramen", Some("till-9"), None).unwrap_err();
    assert_eq!(error, "merchant `shinjuku-ramen` has no terminal `till-9`");
}

#[test]
fn the_longest_payload_still_fits_and_scans() {
    // 512 characters is EMVCo's ceiling, here all of them multi-byte (1,536 bytes).
    let long = "架".repeat(512);
    let image = render_png(&long).unwrap();
    assert!(image.version <= 40);
    assert_eq!(scan(&image.png), long);
}
