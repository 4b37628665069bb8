//! The keys dir: the master key (optionally wrapped with a passphrase), the SSH host key
//! and the customer keyring. It lives apart from the data dir so that a copy of the data
//! alone reveals nothing.

use super::envelope::SealKey;
use super::error::{Result, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MASTER_HEADER: &str = "sealdesk-master-key v1";
/// Argon2id cost for wrapping the master key: 64 MiB, 3 passes (above OWASP's minimum;
/// paid once per process start).
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;

/// File names inside the keys dir.
pub struct KeyPaths {
    pub dir: PathBuf,
}

impl KeyPaths {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyPaths { dir: dir.into() }
    }
    pub fn master(&self) -> PathBuf {
        self.dir.join("master.key")
    }
    pub fn keyring(&self) -> PathBuf {
        self.dir.join("keyring")
    }
    pub fn host_key(&self) -> PathBuf {
        self.dir.join("ssh_host_ed25519_key")
    }
}

/// The desk's 256-bit root secret. Every other desk-wide key is derived from it.
pub(crate) struct MasterKey(Zeroizing<[u8; 32]>);

/// What a derived key is for; each purpose gets an independent key.
#[derive(Clone, Copy)]
pub(crate) enum KeyPurpose {
    /// Sealing workflow records with the master key.
    Seal,
    /// HMAC for look-ups by email address.
    EmailIndex,
    /// HMAC turning customer ids into audit-log pseudonyms.
    Pseudonym,
    /// Wrapping customer data keys in the keyring.
    KeyringWrap,
    /// Sealing a keys backup (`sealdesk keys backup`).
    KeysBackup,
}

impl MasterKey {
    pub(crate) fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut()).expect("the OS random source failed");
        MasterKey(k)
    }

    pub(crate) fn derive(&self, purpose: KeyPurpose) -> Zeroizing<[u8; 32]> {
        let info: &[u8] = match purpose {
            KeyPurpose::Seal => b"sealdesk v1 seal",
            KeyPurpose::EmailIndex => b"sealdesk v1 email index",
            KeyPurpose::Pseudonym => b"sealdesk v1 pseudonym",
            KeyPurpose::KeyringWrap => b"sealdesk v1 keyring wrap",
            KeyPurpose::KeysBackup => b"sealdesk v1 keys backup",
        };
        let mut out = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(b"sealdesk"), self.0.as_ref())
            .expand(info, out.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    pub(crate) fn seal_key(&self, purpose: KeyPurpose) -> SealKey {
        SealKey::new(&self.derive(purpose))
    }

    /// Writes the key to a new 0600 file, wrapped with Argon2id(passphrase) when given.
    pub(crate) fn write(&self, path: &Path, passphrase: Option<&str>) -> Result<()> {
        let body = match passphrase {
            None => format!("{MASTER_HEADER}\nplain {}\n", B64.encode(self.0.as_ref())),
            Some(pass) => {
                let mut salt = [0u8; 16];
                getrandom::fill(&mut salt).expect("the OS random source failed");
                let kek = stretch(pass, &salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
                let sealed = SealKey::new(&kek).seal_raw(MASTER_HEADER.as_bytes(), self.0.as_ref());
                format!(
                    "{MASTER_HEADER}\nargon2id m={ARGON2_M_KIB} t={ARGON2_T} p={ARGON2_P} salt={} key={}\n",
                    B64.encode(salt),
                    B64.encode(sealed)
                )
            }
        };
        write_secret_file(path, body.as_bytes())
    }

    pub(crate) fn read(path: &Path, passphrase: Option<&str>) -> Result<Self> {
        check_private(path)?;
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::KeysMissing(parent(path)),
            _ => StoreError::io(format!("cannot read {}", path.display()))(e),
        })?);
        let damaged = |problem: &str| StoreError::KeyFile {
            path: path.into(),
            problem: problem.into(),
        };
        let mut lines = text.lines();
        if lines.next() != Some(MASTER_HEADER) {
            return Err(damaged("not a sealdesk master key file"));
        }
        let line = lines.next().ok_or_else(|| damaged("no key line"))?;
        let key_bytes: Zeroizing<Vec<u8>> = if let Some(b64) = line.strip_prefix("plain ") {
            Zeroizing::new(B64.decode(b64.trim()).map_err(|_| damaged("bad base64"))?)
        } else if let Some(params) = line.strip_prefix("argon2id ") {
            let field = |name: &str| {
                params
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                    .ok_or_else(|| damaged(&format!("missing {name}")))
            };
            let num = |name: &str| -> Result<u32> {
                field(name)?
                    .parse()
                    .map_err(|_| damaged(&format!("bad {name}")))
            };
            let (m, t, p) = (num("m")?, num("t")?, num("p")?);
            let salt = B64
                .decode(field("salt")?)
                .map_err(|_| damaged("bad salt"))?;
            let sealed = B64.decode(field("key")?).map_err(|_| damaged("bad key"))?;
            let pass = passphrase.ok_or_else(|| StoreError::PassphraseRequired(parent(path)))?;
            let kek = stretch(pass, &salt, m, t, p)?;
            Zeroizing::new(
                SealKey::new(&kek)
                    .open_raw(MASTER_HEADER.as_bytes(), &sealed)
                    .ok_or_else(|| StoreError::WrongPassphrase(path.into()))?,
            )
        } else {
            return Err(damaged("unknown key line"));
        };
        let key: [u8; 32] = key_bytes
            .as_slice()
            .try_into()
            .map_err(|_| damaged("key is not 256 bits"))?;
        Ok(MasterKey(Zeroizing::new(key)))
    }

    #[cfg(test)]
    fn is_wrapped(path: &Path) -> bool {
        fs::read_to_string(path)
            .map(|t| t.contains("\nargon2id "))
            .unwrap_or(false)
    }
}

fn stretch(pass: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<Zeroizing<[u8; 32]>> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(m, t, p, Some(32)).map_err(|e| StoreError::KeyFile {
        path: PathBuf::from("master.key"),
        problem: format!("bad Argon2 parameters: {e}"),
    })?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pass.as_bytes(), salt, out.as_mut())
        .map_err(|e| StoreError::KeyFile {
            path: PathBuf::from("master.key"),
            problem: e.to_string(),
        })?;
    Ok(out)
}

/// Generates the ed25519 SSH host key in OpenSSH format (and its `.pub`).
pub(crate) fn write_host_key(path: &Path) -> Result<String> {
    use ssh_key::{private::Ed25519Keypair, LineEnding, PrivateKey};
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).expect("the OS random source failed");
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment("sealdesk host key");
    let pem = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| StoreError::KeyFile {
            path: path.into(),
            problem: e.to_string(),
        })?;
    write_secret_file(path, pem.as_bytes())?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| StoreError::KeyFile {
            path: path.into(),
            problem: e.to_string(),
        })?;
    write_secret_file(
        &path.with_extension("pub"),
        format!("{public}\n").as_bytes(),
    )?;
    Ok(key.public_key().fingerprint(Default::default()).to_string())
}

/// Generates an ed25519 key pair for a *user* (the demo's agent): private key in
/// OpenSSH format at `path` (0600), public key at `path.pub`; returns the public line.
pub fn write_user_key(path: &Path) -> Result<String> {
    use ssh_key::{private::Ed25519Keypair, LineEnding, PrivateKey};
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).expect("the OS random source failed");
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment("sealdesk demo");
    let err = |e: ssh_key::Error| StoreError::KeyFile {
        path: path.into(),
        problem: e.to_string(),
    };
    write_secret_file(
        path,
        key.to_openssh(LineEnding::LF).map_err(err)?.as_bytes(),
    )?;
    let public = key.public_key().to_openssh().map_err(err)?;
    write_secret_file(
        &path.with_extension("pub"),
        format!("{public}\n").as_bytes(),
    )?;
    Ok(public)
}

/// A public key line nobody holds the private half of (demo agents who never log in).
pub fn demo_public_key(comment: &str) -> String {
    use ssh_key::{private::Ed25519Keypair, PrivateKey};
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS random source failed");
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment(comment);
    key.public_key().to_openssh().unwrap_or_default()
}

/// Creates a directory (and parents) with mode 0700, or checks an existing one.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(StoreError::io(format!("cannot create {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(StoreError::io(format!(
        "cannot set permissions on {}",
        dir.display()
    )))
}

/// Makes every file under `dir` the owner's alone (0600, directories 0700), for desks
/// whose files were created before the process set umask 077 (sled's files were 0644).
/// Symlinks are left alone; entries that vanish meanwhile are skipped.
pub fn tighten_modes(dir: &Path) -> Result<usize> {
    let mut changed = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        let entries = match fs::read_dir(&at) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io(format!("cannot read {}", at.display()))(e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let want = if meta.is_dir() {
                pending.push(path.clone());
                0o700
            } else if meta.file_type().is_symlink() {
                continue;
            } else {
                0o600
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(want)).map_err(
                    StoreError::io(format!("cannot set permissions on {}", path.display())),
                )?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// Writes a new file readable by the owner only, durably (file and directory fsynced).
/// Refuses to overwrite.
pub(crate) fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let ctx = || format!("cannot write {}", path.display());
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::AlreadyInitialized(path.into()),
            _ => StoreError::io(ctx())(e),
        })?;
    f.write_all(bytes).map_err(StoreError::io(ctx()))?;
    f.sync_all().map_err(StoreError::io(ctx()))?;
    sync_dir(&parent(path))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(format!("cannot sync {}", dir.display())))
}

/// Refuses key files that other users can read, as OpenSSH does.
pub(crate) fn check_private(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(StoreError::KeyFileExposed {
                    path: path.into(),
                    mode,
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(StoreError::KeysMissing(parent(path)))
        }
        Err(e) => Err(StoreError::io(format!("cannot read {}", path.display()))(e)),
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_round_trips_plain_and_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let k = MasterKey::generate();
        let plain = dir.path().join("plain.key");
        k.write(&plain, None).unwrap();
        assert_eq!(
            fs::metadata(&plain).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(*MasterKey::read(&plain, None).unwrap().0, *k.0);

        let wrapped = dir.path().join("wrapped.key");
        k.write(&wrapped, Some("correct horse")).unwrap();
        assert!(MasterKey::is_wrapped(&wrapped));
        assert!(!fs::read_to_string(&wrapped)
            .unwrap()
            .contains(&B64.encode(k.0.as_ref())));
        assert_eq!(
            *MasterKey::read(&wrapped, Some("correct horse")).unwrap().0,
            *k.0
        );
        assert!(matches!(
            MasterKey::read(&wrapped, Some("wrong")),
            Err(StoreError::WrongPassphrase(_))
        ));
        assert!(matches!(
            MasterKey::read(&wrapped, None),
            Err(StoreError::PassphraseRequired(_))
        ));
        assert!(matches!(
            k.write(&plain, None),
            Err(StoreError::AlreadyInitialized(_))
        ));
    }

    #[test]
    fn exposed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.key");
        MasterKey::generate().write(&p, None).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::read(&p, None).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let k = MasterKey::generate();
        assert_ne!(
            *k.derive(KeyPurpose::Seal),
            *k.derive(KeyPurpose::EmailIndex)
        );
        assert_ne!(
            *k.derive(KeyPurpose::Pseudonym),
            *k.derive(KeyPurpose::KeyringWrap)
        );
    }
}
