//! Reading a config file: TOML parsing, then validation, each error located by field and line.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::Config;

/// The built-in defaults, `fixtures/idp.toml`, compiled in.
pub(crate) const DEFAULT_CONFIG: &str = include_str!("../../../fixtures/idp.toml");

/// A bad configuration: which file, which field, which line, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or `<built-in>`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `clients[0].redirect_uris[1]`, when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Where PEM files named by `keys[].pem_file` are read from.
#[derive(Debug, Clone)]
pub enum KeyFiles {
    /// Relative to this directory (the config file's).
    Dir(PathBuf),
    /// The test keys compiled into the binary (for the built-in config).
    BuiltIn,
    /// Keys held in memory, by file name (tenants created at runtime).
    Memory(Vec<(String, String)>),
}

const BUILT_IN_KEYS: &[(&str, &str)] = &[
    (
        "keys/rsa-1.pem",
        include_str!("../../../fixtures/keys/rsa-1.pem"),
    ),
    (
        "keys/rsa-2.pem",
        include_str!("../../../fixtures/keys/rsa-2.pem"),
    ),
    (
        "keys/ec-p256-1.pem",
        include_str!("../../../fixtures/keys/ec-p256-1.pem"),
    ),
];

impl KeyFiles {
    /// Reads one PEM file.
    pub fn read(&self, name: &str) -> Result<String, String> {
        match self {
            KeyFiles::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            }
            KeyFiles::Memory(files) => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, pem)| pem.clone())
                .ok_or_else(|| format!("no key file {name:?} in this tenant's keys")),
            KeyFiles::BuiltIn => BUILT_IN_KEYS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, pem)| (*pem).to_owned())
                .ok_or_else(|| {
                    let known: Vec<_> = BUILT_IN_KEYS.iter().map(|(n, _)| *n).collect();
                    format!("no built-in key file {name:?} (built-in: {known:?})")
                }),
        }
    }
}

impl Config {
    /// The built-in demo tenant (`fixtures/idp.toml`).
    pub fn builtin() -> Config {
        // The built-in file is tested; failing here is a build defect, not user input.
        Config::from_toml(DEFAULT_CONFIG, "<built-in>")
            .unwrap_or_else(|e| panic!("built-in config is invalid: {e}"))
    }

    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            field: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            ConfigError {
                file: file.to_owned(),
                line,
                field: e.span().and_then(|s| field_at(text, s.start)),
                message: e.message().trim().to_owned(),
            }
        })?;
        config.validate().map_err(|(path, message)| ConfigError {
            file: file.to_owned(),
            line: locate(text, &path),
            field: Some(render_path(&path)),
            message,
        })?;
        Ok(config)
    }
}

impl Config {
    /// Validates a config built in code (no file, so no line numbers).
    pub fn check(&self) -> Result<(), ConfigError> {
        self.validate().map_err(|(path, message)| ConfigError {
            file: "<in-memory config>".into(),
            line: None,
            field: Some(render_path(&path)),
            message,
        })
    }
}

/// A segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The key whose value starts at `offset`, when the parser's error points into a `key = value` line.
fn field_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}

/// The line of a field, found by walking the TOML document with spans. Where the
/// path cannot be followed to its end, the deepest field found is reported.
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    enum Node<'a> {
        Item(&'a toml_edit::Item),
        Table(&'a toml_edit::Table),
        Value(&'a toml_edit::Value),
    }
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut best = None;
    let mut node = Node::Item(doc.as_item());
    for seg in path {
        let next = match (&node, seg) {
            (_, Seg::Key(k)) => {
                let table: Option<&dyn toml_edit::TableLike> = match node {
                    Node::Item(it) => it.as_table_like(),
                    Node::Table(t) => Some(t),
                    Node::Value(v) => v.as_inline_table().map(|t| t as _),
                };
                table
                    .and_then(|t| t.get_key_value(k))
                    .map(|(key, item)| (key.span(), Node::Item(item)))
            }
            (Node::Item(it), Seg::Index(i)) => match it {
                toml_edit::Item::ArrayOfTables(a) => a.get(*i).map(|t| (t.span(), Node::Table(t))),
                _ => it
                    .as_array()
                    .and_then(|a| a.get(*i))
                    .map(|v| (v.span(), Node::Value(v))),
            },
            (Node::Value(v), Seg::Index(i)) => v
                .as_array()
                .and_then(|a| a.get(*i))
                .map(|v| (v.span(), Node::Value(v))),
            (Node::Table(_), Seg::Index(_)) => None,
        };
        let Some((span, n)) = next else { break };
        best = span.or(best);
        node = n;
    }
    best.map(|s| line_of(text, s.start))
}

/// Duplicate names in a list, for validation.
pub(crate) fn first_duplicate<'a>(
    names: impl Iterator<Item = &'a str>,
) -> Option<(usize, &'a str)> {
    let mut seen = HashMap::new();
    for (i, n) in names.enumerate() {
        if seen.insert(n, i).is_some() {
            return Some((i, n));
        }
    }
    None
}
