//! Request parameters from a query string or a form body, with RFC 6749 §3.1's rule that a
//! parameter must not be sent twice.

use super::errors::OAuthError;

/// Decoded `application/x-www-form-urlencoded` parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl AsRef<[(String, String)]> for Params {
    fn as_ref(&self) -> &[(String, String)] {
        &self.0
    }
}

impl Params {
    /// Parses a query string or form body. Invalid UTF-8 is refused, not guessed at.
    pub fn parse(raw: &[u8]) -> Result<Params, OAuthError> {
        if std::str::from_utf8(raw).is_err() {
            return Err(OAuthError::invalid_request(
                "the parameters are not valid UTF-8",
            ));
        }
        Ok(Params(
            url::form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self
            .0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} was sent more than once"
            )));
        }
        Ok(first)
    }

    /// A required parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }

    /// Whether a parameter is present (even with a duplicate).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    /// The space-separated values of a parameter (scope, prompt).
    pub fn list(&self, name: &str) -> Result<Vec<String>, OAuthError> {
        Ok(self
            .get(name)?
            .map(|s| {
                s.split(' ')
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_empty_values_absent() {
        let p = Params::parse(b"a=1&a=2&b=&c=x+y").unwrap();
        assert_eq!(p.get("a").unwrap_err().error, "invalid_request");
        assert_eq!(p.get("b").unwrap(), None);
        assert_eq!(p.get("c").unwrap(), Some("x y"));
        assert_eq!(p.list("c").unwrap(), vec!["x", "y"]);
        assert!(p.require("zz").unwrap_err().description.contains("zz"));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(
            Params::parse(b"a=%ff").is_ok(),
            "percent-escapes decode lossily by design"
        );
        assert!(Params::parse(&[b'a', b'=', 0xff]).is_err());
    }
}
