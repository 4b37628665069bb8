use std::path::PathBuf;

/// Everything that can go wrong below the desk. Each message says what happened and
/// what to do, because it reaches the admin as a one-line CLI error. None of them
/// carries key material or customer plaintext.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no desk in {0}: run `sealdesk init` first, or point --data / SEALDESK_DATA at an existing data dir")]
    NotInitialized(PathBuf),
    #[error("{0} already holds a sealdesk setup; refusing to overwrite it (pick another --data / --keys, or move the old one away first)")]
    AlreadyInitialized(PathBuf),
    /// A backup (data or keys) would replace an existing file.
    #[error("{0} exists already; refusing to overwrite it: choose another --out, or remove that file first")]
    OutExists(PathBuf),
    #[error("another sealdesk process holds this data dir ({0}); stop it (or talk to the running server) and try again")]
    Locked(PathBuf),
    #[error("no master key in {0}: point --keys / SEALDESK_KEYS at the keys dir that `sealdesk init` created for this data dir")]
    KeysMissing(PathBuf),
    #[error("the master key in {0} does not open this data dir: point --keys / SEALDESK_KEYS at the keys dir created together with it")]
    WrongKey(PathBuf),
    #[error("the master key in {0} is protected by a passphrase: give it with --passphrase-file FILE or the SEALDESK_PASSPHRASE environment variable")]
    PassphraseRequired(PathBuf),
    #[error("the passphrase does not unlock the master key in {0}: check --passphrase-file / SEALDESK_PASSPHRASE")]
    WrongPassphrase(PathBuf),
    #[error("{path} is accessible to other users (mode {mode:o}): run `chmod 600 {path}` (and `chmod 700` on its directory)")]
    KeyFileExposed { path: PathBuf, mode: u32 },
    #[error("key file {path} is damaged ({problem}): restore the keys dir from your key backup")]
    KeyFile { path: PathBuf, problem: String },
    #[error("the keyring in {0} belongs to another desk: point --keys at the keys dir created together with this data dir")]
    KeyringMismatch(PathBuf),
    #[error("a stored value failed its integrity check ({0}): the data dir was changed outside sealdesk or is damaged; restore it from a backup")]
    Corrupt(String),
    #[error("the database files are damaged ({0}): restore the data dir from a backup")]
    Damaged(String),
    #[error("a stored value uses format version {0}, newer than this sealdesk understands: upgrade sealdesk")]
    UnsupportedFormat(u8),
    #[error("this customer's data was erased (their data key was destroyed)")]
    Erased,
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}; if it persists, restore the data dir from a backup")]
    Db(String),
    #[error("the data dir's disk failed ({0}): check the disk and its free space")]
    DiskIo(#[source] std::io::Error),
    #[error("the disk failed while this change was being stored, so it may not have been: look whether it is there, and do it again if not")]
    NotDurable,
    /// Writes are refused until the store recovers by itself (see `health`).
    #[error("{}", unavailable(data, cause, *disk_full))]
    Unavailable {
        data: PathBuf,
        cause: String,
        disk_full: bool,
    },
}

fn unavailable(data: &std::path::Path, cause: &str, disk_full: bool) -> String {
    if disk_full {
        format!(
            "the disk holding {} is full: free space there; the desk retries by itself (see `sealdesk status`)",
            data.display()
        )
    } else {
        format!(
            "the data dir {} cannot be written ({cause}): fix the disk; the desk retries by itself (see `sealdesk status`)",
            data.display()
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { .. } => StoreError::Damaged("sled reports corruption".into()),
            sled::Error::Io(e) => StoreError::DiskIo(e),
            other => StoreError::Db(other.to_string()),
        }
    }
}

/// The desk's errors carry store errors opaquely (`sealdesk_api` knows no store types):
/// the text and source stay the store error's, and the desk can still look inside.
impl From<StoreError> for sealdesk_api::DeskError {
    fn from(e: StoreError) -> sealdesk_api::DeskError {
        sealdesk_api::DeskError::Store(sealdesk_api::StoreFailure::new(e))
    }
}

#[cfg(test)]
mod desk_error_tests {
    use super::StoreError;
    use sealdesk_api::DeskError;
    use std::error::Error;

    /// A store error reaches the admin through `DeskError` with its own text and
    /// source, and the desk can still tell which store error it was.
    #[test]
    fn a_store_error_in_a_desk_error_keeps_its_text_source_and_kind() {
        let text = StoreError::Erased.to_string();
        let e = DeskError::from(StoreError::Erased);
        assert_eq!(e.to_string(), text);
        let DeskError::Store(failure) = &e else {
            panic!("not a store error: {e:?}");
        };
        assert!(matches!(
            failure.downcast_ref::<StoreError>(),
            Some(StoreError::Erased)
        ));
        assert!(failure.downcast_ref::<std::io::Error>().is_none());

        let io = StoreError::DiskIo(std::io::Error::other("disk gone"));
        let e = DeskError::from(io);
        assert_eq!(
            e.source().map(|s| s.to_string()).as_deref(),
            Some("disk gone")
        );
    }
}
