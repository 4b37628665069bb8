//! The desk's TOML config file: `--config PATH`, or `sealdesk.toml` in the data dir.
//! Absent means defaults. Unknown keys are errors, so a typo never silently does nothing.

use crate::model::{Catalogue, CatalogueEntry};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub privacy: PrivacyConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Below this age a customer is a minor whose consent needs a guardian.
    pub minor_age: u8,
    /// Replace the shipped purpose catalogue.
    pub purposes: Option<Vec<CatalogueEntry>>,
    /// Replace the shipped category catalogue.
    pub categories: Option<Vec<CatalogueEntry>>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            minor_age: 14,
            purposes: None,
            categories: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("config {path}: {problem}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub problem: String,
}

impl Config {
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("sealdesk.toml")
    }

    /// Loads the file if it exists; a missing default file means defaults.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        let err = |problem: String| ConfigError {
            path: path.into(),
            problem,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(Config::default())
            }
            Err(e) => return Err(err(format!("cannot read it ({e}); check --config"))),
        };
        let config: Config = toml::from_str(&text).map_err(|e| err(one_line(&e.to_string())))?;
        config
            .catalogue()
            .validate()
            .map_err(|p| err(format!("privacy catalogue: {p}")))?;
        Ok(config)
    }

    /// The purpose and category catalogue: the shipped default unless replaced here.
    pub fn catalogue(&self) -> Catalogue {
        let default = Catalogue::default();
        Catalogue {
            purposes: self.privacy.purposes.clone().unwrap_or(default.purposes),
            categories: self
                .privacy
                .categories
                .clone()
                .unwrap_or(default.categories),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_overrides_and_names_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sealdesk.toml");
        assert_eq!(Config::load(&p, false).unwrap().privacy.minor_age, 14);
        std::fs::write(
            &p,
            "[privacy]\nminor_age = 16\npurposes = [{ code = \"X1\", name = \"x\" }]\n",
        )
        .unwrap();
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.privacy.minor_age, 16);
        assert_eq!(c.catalogue().purposes.len(), 1);
        assert!(c.catalogue().category("C001").is_some());
        std::fs::write(&p, "[privacy]\nminor_agee = 16\n").unwrap();
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("minor_agee"), "{e}");
    }
}
