//! Grammar-aware mutations of a TOML file: the file is parsed (toml_edit keeps its layout),
//! changed at a generated place, and written back; then, optionally, its bytes are hurt.

use proptest::prelude::*;
use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// A value to put where another was.
#[derive(Debug, Clone)]
pub enum Odd {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Odd>),
    Table,
}

/// One change to the document or its text.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// The `at`-th place (modulo their number) gets this value.
    Replace { at: usize, with: Odd },
    /// A key no one knows, in the `at`-th table.
    AddUnknown { at: usize },
    /// The `at`-th key is removed.
    Remove { at: usize },
    /// The `at`-th array of tables gets its first entry again.
    Repeat { at: usize },
    /// The text ends at this fraction (‰) of its length.
    Truncate { per_mille: u16 },
    /// A byte lands at this fraction (‰) of the text.
    InsertByte { per_mille: u16, byte: u8 },
}

const STRINGS: &[&str] = &[
    "",
    " ",
    "\u{202e}gpj.exe",
    "a\u{0}b",
    "🙂🙂",
    "e\u{301}\u{301}\u{301}",
    "\u{feff}issuer",
    "http://[::1",
    "http://127.0.0.1:99999/x",
    "ftp://x/y",
    "-1",
    "99999999999999999999999999",
    "../../../../etc/passwd",
    "RS512",
    "none",
    "client_secret_jwt",
    "/resource_access/~2/roles",
    "\n[evil]\nx = 1",
];

fn odd() -> impl Strategy<Value = Odd> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Odd::Bool),
        prop_oneof![
            Just(i64::MAX),
            Just(i64::MIN),
            Just(-1i64),
            Just(0i64),
            any::<i64>()
        ]
        .prop_map(Odd::Int),
        prop_oneof![Just(f64::INFINITY), Just(f64::NAN), Just(1e308), Just(-0.5)]
            .prop_map(Odd::Float),
        proptest::sample::select(STRINGS).prop_map(|s| Odd::Str(s.to_owned())),
        (1usize..200_000).prop_map(|n| Odd::Str("x".repeat(n))),
        "\\PC{0,40}".prop_map(Odd::Str),
        Just(Odd::Table),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Odd::Array)
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), odd()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        2 => any::<usize>().prop_map(|at| Mutation::AddUnknown { at }),
        2 => any::<usize>().prop_map(|at| Mutation::Remove { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Repeat { at }),
        1 => (0u16..1000).prop_map(|per_mille| Mutation::Truncate { per_mille }),
        1 => (0u16..1000, any::<u8>()).prop_map(|(per_mille, byte)| Mutation::InsertByte { per_mille, byte }),
    ]
}

/// One to four mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..5)
}

/// A path to an item: keys and array-of-tables indexes.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every value, table and array of tables below `item`, with its path.
fn places(item: &Item, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Kind)>) {
    match item {
        Item::Table(t) => {
            out.push((path.clone(), Kind::Table));
            for (k, v) in t.iter() {
                path.push(Seg::Key(k.to_owned()));
                places(v, path, out);
                path.pop();
            }
        }
        Item::ArrayOfTables(a) => {
            out.push((path.clone(), Kind::ArrayOfTables));
            for (i, t) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                places(&Item::Table(t.clone()), path, out);
                path.pop();
            }
        }
        Item::Value(_) => out.push((path.clone(), Kind::Value)),
        Item::None => {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Value,
    Table,
    ArrayOfTables,
}

fn get_mut<'a>(mut item: &'a mut Item, path: &[Seg]) -> Option<&'a mut Item> {
    for seg in path {
        item = match (seg, item) {
            (Seg::Key(k), Item::Table(t)) => t.get_mut(k)?,
            (Seg::Index(i), Item::ArrayOfTables(a)) => {
                let t = a.get_mut(*i)?;
                // Entries are tables; walk on inside them.
                return get_mut_in_table(
                    t,
                    &path[path.iter().position(|s| std::ptr::eq(s, seg))? + 1..],
                );
            }
            _ => return None,
        };
    }
    Some(item)
}

fn get_mut_in_table<'a>(t: &'a mut Table, rest: &[Seg]) -> Option<&'a mut Item> {
    let (Seg::Key(first), rest) = rest.split_first()? else {
        return None;
    };
    get_mut(t.get_mut(first)?, rest)
}

fn value(o: &Odd) -> Item {
    match o {
        Odd::Table => Item::Table(Table::new()),
        other => Item::Value(inline(other)),
    }
}

fn inline(o: &Odd) -> Value {
    match o {
        Odd::Bool(b) => Value::from(*b),
        Odd::Int(i) => Value::from(*i),
        Odd::Float(f) => Value::from(*f),
        Odd::Str(s) => Value::from(s.as_str()),
        Odd::Array(items) => Value::Array(items.iter().map(inline).collect::<Array>()),
        Odd::Table => Value::InlineTable(Default::default()),
    }
}

fn pick(places: &[(Vec<Seg>, Kind)], at: usize, kind: Option<Kind>) -> Option<Vec<Seg>> {
    let fit: Vec<_> = places
        .iter()
        .filter(|(p, k)| kind.is_none_or(|want| want == *k) && !p.is_empty())
        .collect();
    (!fit.is_empty()).then(|| fit[at % fit.len()].0.clone())
}

/// The parent of `path` (a table) and the last key, to insert or remove there.
fn parent_table<'a>(root: &'a mut Item, path: &[Seg]) -> Option<(&'a mut Table, String)> {
    let (Seg::Key(last), parent) = path.split_last()? else {
        return None;
    };
    let parent = if parent.is_empty() {
        root
    } else {
        get_mut(root, parent)?
    };
    match parent {
        Item::Table(t) => Some((t, last.clone())),
        _ => None,
    }
}

/// `seed` with the mutations applied (structural ones on the parsed document, then the
/// textual ones).
pub fn apply(seed: &str, ms: &[Mutation]) -> String {
    let mut doc: DocumentMut = seed.parse().expect("the seed files are valid TOML");
    let mut root = Item::Table(doc.as_table().clone());
    for m in ms {
        let mut all = Vec::new();
        places(&root, &mut Vec::new(), &mut all);
        match m {
            Mutation::Replace { at, with } => {
                if let Some(p) = pick(&all, *at, Some(Kind::Value))
                    && let Some(item) = get_mut(&mut root, &p)
                {
                    *item = value(with);
                }
            }
            Mutation::AddUnknown { at } => {
                let p = pick(&all, *at, Some(Kind::Table)).unwrap_or_default();
                let target = if p.is_empty() {
                    Some(&mut root)
                } else {
                    get_mut(&mut root, &p)
                };
                if let Some(Item::Table(t)) = target {
                    t.insert("zz_unknown_key", Item::Value(Value::from(1)));
                }
            }
            Mutation::Remove { at } => {
                if let Some(p) = pick(&all, *at, None)
                    && let Some((t, key)) = parent_table(&mut root, &p)
                {
                    t.remove(&key);
                }
            }
            Mutation::Repeat { at } => {
                if let Some(p) = pick(&all, *at, Some(Kind::ArrayOfTables))
                    && let Some(Item::ArrayOfTables(a)) = get_mut(&mut root, &p)
                    && let Some(first) = a.get(0).cloned()
                {
                    a.push(first);
                }
            }
            Mutation::Truncate { .. } | Mutation::InsertByte { .. } => {}
        }
    }
    if let Item::Table(t) = root {
        *doc.as_table_mut() = t;
    }
    let mut text = doc.to_string().into_bytes();
    for m in ms {
        match m {
            Mutation::Truncate { per_mille } => {
                text.truncate(text.len() * usize::from(*per_mille) / 1000);
            }
            Mutation::InsertByte { per_mille, byte } => {
                let at = text.len() * usize::from(*per_mille) / 1000;
                text.insert(at, *byte);
            }
            _ => {}
        }
    }
    // A stray byte may break UTF-8: the loaders take text, as a file read would be.
    String::from_utf8_lossy(&text).into_owned()
}
