use serde::{Deserialize, Serialize};

/// The purposes personal data is used for and the categories it falls into, as codes
/// attached to consent records and exports. Ships with the Taiwan PDPA catalogue codes;
/// a desk can replace it in its config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub purposes: Vec<CatalogueEntry>,
    pub categories: Vec<CatalogueEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub code: String,
    pub name: String,
}

const DEFAULT_PURPOSES: &[(&str, &str)] = &[
    ("040", "marketing"),
    ("069", "contracts and legal relations"),
    ("090", "customer management and service"),
    ("091", "consumer protection"),
    ("098", "business and technical information"),
    ("135", "(tele)communication services"),
    ("136", "information and database management"),
    ("148", "online shopping / e-commerce"),
    ("152", "advertising and business conduct management"),
    ("157", "surveys, statistics, research"),
    ("181", "other business within the registered scope"),
];

const DEFAULT_CATEGORIES: &[(&str, &str)] = &[
    (
        "C001",
        "personal identification (name, account, work address, phone)",
    ),
    (
        "C003",
        "government identifiers (national ID, passport, licence numbers)",
    ),
    (
        "C011",
        "personal description (age, gender, date of birth, nationality)",
    ),
    ("C035", "leisure activities and interests"),
    ("C038", "occupation"),
    ("C073", "security details (passwords)"),
    ("C092", "goods or services provided by the subject"),
    ("C101", "business activities of the subject"),
    ("C102", "agreements or contracts"),
    (
        "C132",
        "unclassified (remarks, files, reports, messages, comments)",
    ),
    (
        "DEVICE",
        "device and network data (hardware/software, device ids, IP address, cookies, location)",
    ),
];

impl Default for Catalogue {
    fn default() -> Self {
        let entries = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(code, name)| CatalogueEntry {
                    code: code.to_string(),
                    name: name.to_string(),
                })
                .collect()
        };
        Catalogue {
            purposes: entries(DEFAULT_PURPOSES),
            categories: entries(DEFAULT_CATEGORIES),
        }
    }
}

impl Catalogue {
    pub fn purpose(&self, code: &str) -> Option<&CatalogueEntry> {
        self.purposes.iter().find(|e| e.code == code)
    }

    pub fn category(&self, code: &str) -> Option<&CatalogueEntry> {
        self.categories
            .iter()
            .find(|e| e.code.eq_ignore_ascii_case(code))
    }

    /// Checks that codes are unique and non-empty; returns what is wrong.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        for (what, list) in [("purpose", &self.purposes), ("category", &self.categories)] {
            let mut seen = std::collections::HashSet::new();
            for e in list.iter() {
                if e.code.trim().is_empty() {
                    return Err(CatalogueError::EmptyCode { what });
                }
                if !seen.insert(e.code.as_str()) {
                    return Err(CatalogueError::Duplicate {
                        what,
                        code: e.code.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// What is wrong with a privacy catalogue (`what` is "purpose" or "category").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("a {what} has an empty code")]
    EmptyCode { what: &'static str },
    #[error("{what} code {code:?} appears twice")]
    Duplicate { what: &'static str, code: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalogue_has_the_promised_codes() {
        let c = Catalogue::default();
        c.validate().unwrap();
        for code in [
            "040", "069", "090", "091", "098", "135", "136", "148", "152", "157", "181",
        ] {
            assert!(c.purpose(code).is_some(), "purpose {code}");
        }
        for code in [
            "C001", "C003", "C011", "C035", "C038", "C073", "C092", "C101", "C102", "C132",
        ] {
            assert!(c.category(code).is_some(), "category {code}");
        }
    }
}
