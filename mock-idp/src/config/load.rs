//! Reading a config file: TOML parsing, then validation, each error located by field and line.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::Config;
use crate::key_material::{self, KeyMaterial};
use crate::profiles::{self, Precedence};
use crate::types::SigningAlg;

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
    /// Keys held in memory and parsed already, by file name (tenants created at runtime).
    Parsed(Vec<(String, Arc<KeyMaterial>)>),
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
            KeyFiles::Parsed(files) => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| m.pem().to_owned())
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

impl KeyFiles {
    /// One key file parsed for `alg`: held keys as they are, the built-in ones parsed once
    /// per process, files read and parsed now.
    pub fn material(&self, name: &str, alg: SigningAlg) -> Result<Arc<KeyMaterial>, String> {
        let held = match self {
            KeyFiles::Parsed(files) => files.iter().find(|(n, _)| n == name).map(|(_, m)| m),
            KeyFiles::BuiltIn => BUILT_IN_KEYS
                .iter()
                .position(|(n, _)| *n == name)
                .and_then(|i| built_in_parsed()[i].get()),
            KeyFiles::Dir(_) => None,
        };
        if let Some(m) = held.filter(|m| m.fits(alg)) {
            return Ok(m.clone());
        }
        let material = key_material::parse(alg, &self.read(name)?)?;
        if let (KeyFiles::BuiltIn, Some(i)) =
            (self, BUILT_IN_KEYS.iter().position(|(n, _)| *n == name))
        {
            // The first parse stays (a racing one is dropped).
            let _ = built_in_parsed()[i].set(material.clone());
        }
        Ok(material)
    }
}

/// The built-in keys, each parsed at its first use (index-aligned with [`BUILT_IN_KEYS`]).
fn built_in_parsed() -> &'static [OnceLock<Arc<KeyMaterial>>; 3] {
    static PARSED: [OnceLock<Arc<KeyMaterial>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    const _: () = assert!(BUILT_IN_KEYS.len() == 3, "one OnceLock per built-in key");
    &PARSED
}

impl Config {
    /// The built-in demo tenant (`fixtures/idp.toml`).
    pub fn builtin() -> Config {
        // Parsed once per process (each tenant made from it gets a copy). The built-in file
        // is tested; failing here is a build defect, not user input.
        static BUILT_IN: OnceLock<Config> = OnceLock::new();
        BUILT_IN
            .get_or_init(|| {
                Config::from_toml(DEFAULT_CONFIG, "<built-in>")
                    .unwrap_or_else(|e| panic!("built-in config is invalid: {e}"))
            })
            .clone()
    }

    /// The built-in demo tenant's clients, users and keys, shaped like provider `profile`.
    pub fn builtin_with_profile(profile: &str) -> Result<Config, ConfigError> {
        Config::builtin_with_profile_at(profile, None)
    }

    /// [`Config::builtin_with_profile`] at this issuer (a tenant's): the profile's paths
    /// follow it.
    pub fn builtin_with_profile_at(
        profile: &str,
        issuer: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let file = format!("<built-in> with profile {profile}");
        let p = profiles::get(profile).map_err(|m| located(&file, Some("profile"), m))?;
        Config::builtin_shaped(&p, issuer)
    }

    /// The built-in demo tenant shaped like this profile (a built-in one, or a profile
    /// document received as text), at this issuer.
    pub fn builtin_shaped(
        p: &profiles::Profile,
        issuer: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let file = format!("<built-in> with profile {}", p.name);
        let mut table: toml::Table = DEFAULT_CONFIG
            .parse()
            .map_err(|e| located(&file, None, format!("{e}")))?;
        if let Some(i) = issuer {
            table.insert("issuer".into(), toml::Value::String(i.to_owned()));
        }
        shape(p, &table, Precedence::Profile, file)
    }

    /// Reads and validates a config file, shaped like `profile` (which replaces the
    /// file's own `profile` key); the file's keys win over the profile's.
    pub fn from_file_with_profile(path: &Path, profile: &str) -> Result<Config, ConfigError> {
        let (text, file) = read(path)?;
        Config::profiled(&text, &file, Some(profile), Precedence::Config)
    }

    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let (text, file) = read(path)?;
        Config::from_toml(&text, &file)
    }

    /// Parses and validates TOML text, applying the `profile` it names; `file` names it
    /// in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Config, ConfigError> {
        Config::profiled(text, file, None, Precedence::Config)
    }

    /// The file checked on its own (errors located in it), then, with a profile (this
    /// one, or the file's), the profile applied and the result checked again.
    fn profiled(
        text: &str,
        file: &str,
        profile: Option<&str>,
        precedence: Precedence,
    ) -> Result<Config, ConfigError> {
        let own = Config::plain(text, file)?;
        let Some(name) = profile.or(own.profile.as_deref()) else {
            return Ok(own);
        };
        // A profile file named in a config file is found beside it.
        let beside = match std::path::Path::new(file).parent() {
            Some(dir) if profiles::is_file(name) && own.profile.as_deref() == Some(name) => {
                dir.join(name).display().to_string()
            }
            _ => name.to_owned(),
        };
        let p = profiles::get(&beside).map_err(|message| ConfigError {
            file: file.to_owned(),
            line: locate(text, &[Seg::Key("profile")]),
            field: Some("profile".into()),
            message,
        })?;
        let table: toml::Table = text.parse().map_err(|e| ConfigError {
            file: file.to_owned(),
            line: None,
            field: None,
            message: format!("{e}"),
        })?;
        shape(
            &p,
            &table,
            precedence,
            format!("{file} with profile {name}"),
        )
    }

    /// This config shaped like `profile`, the profile winning (as over the built-in demo
    /// tenant): for configs built in code, where set and default cannot be told apart.
    pub fn with_profile(&self, profile: &str) -> Result<Config, ConfigError> {
        let file = format!("<in-memory config> with profile {profile}");
        let p = profiles::get(profile).map_err(|m| located(&file, Some("profile"), m))?;
        let table = toml::Table::try_from(self).map_err(|e| located(&file, None, e.to_string()))?;
        shape(&p, &table, Precedence::Profile, file)
    }

    /// A config as JSON (the admin API's tenants), shaped like `profile` or the one it
    /// names; its own keys win over the profile's.
    pub fn from_json(
        value: serde_json::Value,
        profile: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let file = "<config JSON>";
        let own: Config = serde_json::from_value(value.clone())
            .map_err(|e| located(file, None, e.to_string()))?;
        own.check()?;
        let Some(name) = profile.or(own.profile.as_deref()) else {
            return Ok(own);
        };
        let p = profiles::get(name).map_err(|m| located(file, Some("profile"), m))?;
        Config::json_shaped(value, &p)
    }

    /// A config as JSON shaped like this profile (its own keys win over the profile's).
    pub fn json_shaped(
        value: serde_json::Value,
        p: &profiles::Profile,
    ) -> Result<Config, ConfigError> {
        let file = "<config JSON>";
        let table: toml::Table =
            serde_json::from_value(value).map_err(|e| located(file, None, e.to_string()))?;
        shape(
            p,
            &table,
            Precedence::Config,
            format!("{file} with profile {}", p.name),
        )
    }

    /// Parses and validates TOML text as it is.
    fn plain(text: &str, file: &str) -> Result<Config, ConfigError> {
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

/// A config file's text and its name for errors.
fn read(path: &Path) -> Result<(String, String), ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| located(&file, None, format!("cannot read: {e}")))?;
    Ok((text, file))
}

/// An error without a line (documents that were merged or never were text).
fn located(file: &str, field: Option<&str>, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line: None,
        field: field.map(str::to_owned),
        message,
    }
}

/// The profile applied to a config document, deserialized and validated; errors name
/// `file` (which says which profile).
fn shape(
    p: &profiles::Profile,
    table: &toml::Table,
    precedence: Precedence,
    file: String,
) -> Result<Config, ConfigError> {
    let merged = p
        .apply(table, precedence)
        .map_err(|m| located(&file, None, m))?;
    let config: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| located(&file, None, e.message().trim().to_owned()))?;
    config
        .validate()
        .map_err(|(path, message)| located(&file, Some(&render_path(&path)), message))?;
    Ok(config)
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
