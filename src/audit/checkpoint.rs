//! Checkpoints: c2sp.org/tlog-checkpoint bodies (`<origin>\n<size>\n<base64 root>\n`) in
//! c2sp.org/signed-note envelopes, signed with Ed25519, all through `signed_note` and
//! `tlog_tiles`. An auditor's own tools (Go's `sumdb/note`, any tlog-tiles client) read
//! them unchanged.
use std::io::Write;
use std::path::Path;

use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash, check_tree};

use super::limits::ORIGIN_LENGTH_MAX;

/// The key this switch signs checkpoints with; its name is the log's origin.
#[derive(Clone)]
pub struct LogSigner {
    signer: StandardSigner,
    origin: String,
}

/// A checkpoint whose signature was checked (or that this switch just signed).
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The whole signed note, byte for byte as served at `/checkpoint`.
    pub note: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read the signing key {path}: {source}")]
    ReadKey {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the key file {path}: {source}")]
    WriteKey {
        path: String,
        source: std::io::Error,
    },
    #[error("the signing key file is not a signed-note Ed25519 private key")]
    BadKey,
    #[error("the signing key is named `{key}` but the log's origin is `{origin}`")]
    KeyNameMismatch { key: String, origin: String },
    #[error("`{0}` is not a valid origin (1..=255 characters, no spaces or `+`)")]
    BadOrigin(String),
    #[error("the verifier key is malformed: expected <name>+<hex id>+<base64 key>")]
    BadVerifierKey,
    #[error("the checkpoint is not a well-formed signed note")]
    MalformedNote,
    #[error("the checkpoint carries no valid signature by {key}")]
    Signature { key: String },
    #[error("the checkpoint text is not a tlog-checkpoint")]
    MalformedCheckpoint,
    #[error("the checkpoint is for origin `{found}`, not `{expected}`")]
    WrongOrigin { expected: String, found: String },
    #[error("checkpoint {old} is not consistent with checkpoint {new}")]
    Inconsistent { old: u64, new: u64 },
    #[error("signing failed: {0}")]
    Sign(String),
}

// === impl LogSigner ===

impl LogSigner {
    /// Reads a private key written by `kakehashi audit keygen`; its name must be `origin`,
    /// so a key meant for another log (or deployment) is refused at start-up.
    pub fn from_key_file(path: &Path, origin: &str) -> Result<Self, CheckpointError> {
        let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::ReadKey {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_key(text.trim(), origin)
    }

    pub fn from_key(key: &str, origin: &str) -> Result<Self, CheckpointError> {
        check_origin(origin)?;
        let signer = StandardSigner::new(key).map_err(|_| CheckpointError::BadKey)?;
        let name = signed_note::Signer::name(&signer).to_owned();
        if name != origin {
            return Err(CheckpointError::KeyNameMismatch {
                key: name,
                origin: origin.to_owned(),
            });
        }
        Ok(Self {
            signer,
            origin: origin.to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Signs the checkpoint of the tree of `size` records with root `root`.
    pub fn sign(&self, size: u64, root: Hash) -> Result<SignedCheckpoint, CheckpointError> {
        let body = Checkpoint::new(&self.origin, size, root, "")
            .map_err(|_| CheckpointError::MalformedCheckpoint)?;
        let mut note =
            Note::new(&body.to_bytes(), &[]).map_err(|_| CheckpointError::MalformedNote)?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Sign(e.to_string()))?;
        Ok(SignedCheckpoint {
            origin: self.origin.clone(),
            size,
            root,
            note: note.to_bytes(),
        })
    }
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A new key pair for `origin`: (private key, verifier key `<name>+<hex id>+<base64>`).
pub fn keygen(origin: &str) -> Result<(String, String), CheckpointError> {
    check_origin(origin)?;
    Ok(signed_note::generate_key(&mut rand_core::OsRng, origin))
}

/// Writes a private key to a new file readable by its owner only; never overwrites one.
pub fn write_key_file(path: &Path, private_key: &str) -> Result<(), CheckpointError> {
    let err = |source| CheckpointError::WriteKey {
        path: path.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(err)?;
    file.write_all(format!("{private_key}\n").as_bytes())
        .map_err(err)?;
    file.sync_all().map_err(err)
}

/// Checks a signed checkpoint against a verifier key: a valid signature by that key, and an
/// origin equal to the key's name (the C2SP convention this log follows).
pub fn verify(note: &[u8], verifier_key: &str) -> Result<SignedCheckpoint, CheckpointError> {
    let verifier =
        StandardVerifier::new(verifier_key.trim()).map_err(|_| CheckpointError::BadVerifierKey)?;
    let key_name = signed_note::Verifier::name(&verifier).to_owned();
    let parsed = Note::from_bytes(note).map_err(|_| CheckpointError::MalformedNote)?;
    parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|_| CheckpointError::Signature {
            key: key_name.clone(),
        })?;
    let body =
        Checkpoint::from_bytes(parsed.text()).map_err(|_| CheckpointError::MalformedCheckpoint)?;
    if body.origin() != key_name {
        return Err(CheckpointError::WrongOrigin {
            expected: key_name,
            found: body.origin().to_owned(),
        });
    }
    Ok(SignedCheckpoint {
        origin: body.origin().to_owned(),
        size: body.size(),
        root: *body.hash(),
        note: note.to_vec(),
    })
}

/// Checks that `new` extends `old` with the consistency proof `proof` (RFC 6962 §2.1.2).
/// A tree of size 0 is a prefix of every tree; equal sizes need equal roots.
pub fn check_consistency(
    old: &SignedCheckpoint,
    new: &SignedCheckpoint,
    proof: &[Hash],
) -> Result<(), CheckpointError> {
    let inconsistent = CheckpointError::Inconsistent {
        old: old.size,
        new: new.size,
    };
    if old.origin != new.origin || old.size > new.size {
        return Err(inconsistent);
    }
    if old.size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(inconsistent)
        };
    }
    check_tree(&proof.to_vec(), new.size, new.root, old.size, old.root).map_err(|_| inconsistent)
}

fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.len() > ORIGIN_LENGTH_MAX || !signed_note::is_key_name_valid(origin) {
        return Err(CheckpointError::BadOrigin(
            origin.chars().take(64).collect(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::record_hash;

    const ORIGIN: &str = "kakehashi.example/audit/test";

    #[test]
    fn a_signed_checkpoint_verifies_with_the_printed_key() {
        let (private, public) = keygen(ORIGIN).unwrap();
        // The base64 key may itself hold a '+': only the first two separate fields.
        let parts: Vec<&str> = public.splitn(3, '+').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], ORIGIN);
        assert_eq!(parts[1].len(), 8);
        let signer = LogSigner::from_key(&private, ORIGIN).unwrap();
        let cp = signer.sign(5, record_hash(b"x")).unwrap();
        let text = String::from_utf8(cp.note.clone()).unwrap();
        assert!(text.starts_with(&format!("{ORIGIN}\n5\n")), "{text}");
        assert!(text.contains(&format!("\n\n\u{2014} {ORIGIN} ")), "{text}");
        assert_eq!(verify(&cp.note, &public).unwrap(), cp);
    }

    #[test]
    fn another_key_or_an_altered_text_fails() {
        let (private, public) = keygen(ORIGIN).unwrap();
        let (other_private, _) = keygen(ORIGIN).unwrap();
        let cp = LogSigner::from_key(&other_private, ORIGIN)
            .unwrap()
            .sign(5, record_hash(b"x"))
            .unwrap();
        assert!(matches!(
            verify(&cp.note, &public),
            Err(CheckpointError::Signature { .. })
        ));
        let ours = LogSigner::from_key(&private, ORIGIN)
            .unwrap()
            .sign(5, record_hash(b"x"))
            .unwrap();
        let altered = String::from_utf8(ours.note)
            .unwrap()
            .replacen("\n5\n", "\n6\n", 1);
        assert!(verify(altered.as_bytes(), &public).is_err());
    }

    #[test]
    fn a_key_for_another_origin_is_refused() {
        let (private, _) = keygen("kakehashi.example/audit/other").unwrap();
        assert!(matches!(
            LogSigner::from_key(&private, ORIGIN),
            Err(CheckpointError::KeyNameMismatch { .. })
        ));
        assert!(keygen("has space").is_err());
    }
}
