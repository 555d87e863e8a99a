//! `kakehashi merchant qr`: print a merchant's static code from the config and, on request,
//! write it as a PNG to print and stick by the till.
use std::path::PathBuf;

use super::image::render_png;
use super::merchant::{Place, static_code};
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum MerchantCommand {
    /// Print a merchant's static EMVCo QR payload (JPQR too, when configured) and optionally
    /// write it as a PNG.
    Qr(QrArgs),
}

#[derive(Debug, clap::Args)]
pub struct QrArgs {
    #[arg(long, env = "KAKEHASHI_CONFIG")]
    pub config: PathBuf,
    /// The merchant's id in the config.
    #[arg(long)]
    pub merchant: String,
    /// One of the merchant's terminals: the code then names its store and terminal, so a
    /// payment on it is seen at that till.
    #[arg(long)]
    pub terminal: Option<String>,
    /// Where to write the PNG.
    #[arg(long)]
    pub png: Option<PathBuf>,
}

/// Runs the command and returns what to print: the payload on the first line, then a line
/// about the PNG when one was written.
pub fn run(command: &MerchantCommand) -> Result<String, String> {
    match command {
        MerchantCommand::Qr(args) => qr(args),
    }
}

fn qr(args: &QrArgs) -> Result<String, String> {
    let config = Config::load(&args.config).map_err(|e| e.to_string())?;
    let merchant = config
        .merchants
        .iter()
        .find(|m| m.id == args.merchant)
        .ok_or_else(|| format!("no merchant `{}` in the config", args.merchant))?;
    let terminal = match &args.terminal {
        None => None,
        Some(id) => Some(
            config
                .terminals
                .iter()
                .find(|t| &t.id == id && t.merchant_id == merchant.id)
                .ok_or_else(|| format!("merchant `{}` has no terminal `{id}`", merchant.id))?,
        ),
    };
    let place = Place {
        store_id: terminal
            .map(|t| t.store_id.as_str())
            .filter(|s| !s.is_empty()),
        terminal_id: terminal.map(|t| t.id.as_str()),
    };
    let payload = static_code(&config.qr, merchant, place)
        .map_err(|e| e.to_string())?
        .encode();
    let mut out = payload.clone();
    if let Some(path) = &args.png {
        let image = render_png(&payload).map_err(|e| e.to_string())?;
        std::fs::write(path, &image.png).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push_str(&format!(
            "\n# wrote {}: {}x{} px, QR version {}, error correction M",
            path.display(),
            image.side_px,
            image.side_px,
            image.version
        ));
    }
    Ok(out)
}
