//! Attribute paths (RFC 7644 section 3.10): `userName`, `name.givenName`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, `...:User:manager.value`.

use std::fmt;

/// A plain attribute path: optional schema URN, attribute name, optional sub-attribute.
/// Names compare case-insensitively (RFC 7643 section 2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    /// The attribute name, e.g. `name` or `manager`.
    pub name: String,
    /// The sub-attribute name, e.g. `givenName`.
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path with no URN and no sub-attribute.
    pub fn simple(name: &str) -> Self {
        AttrPath {
            urn: None,
            name: name.to_string(),
            sub: None,
        }
    }

    /// Parses `[urn:...:]name[.sub]`. The URN is everything up to the last `:` when the path starts
    /// with `urn:` (case-insensitive). Returns a message when the path is not well-formed.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty attribute path".into());
        }
        let (urn, rest) =
            if s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
                match s.rfind(':') {
                    Some(i) if i + 1 < s.len() => (Some(s[..i].to_string()), &s[i + 1..]),
                    _ => {
                        return Err(format!(
                            "attribute path `{s}` has a schema URN but no attribute"
                        ));
                    }
                }
            } else {
                (None, s)
            };
        let mut parts = rest.splitn(2, '.');
        let name = parts.next().unwrap_or_default();
        let sub = parts.next();
        let valid = |p: &str| {
            let mut chars = p.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !valid(name) {
            return Err(format!("`{name}` is not a valid attribute name"));
        }
        if let Some(sub) = sub
            && !valid(sub)
        {
            return Err(format!("`{sub}` is not a valid sub-attribute name"));
        }
        Ok(AttrPath {
            urn,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_dotted_and_urn_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::simple("userName")
        );
        let p = AttrPath::parse("name.givenName").unwrap();
        assert_eq!(
            (p.name.as_str(), p.sub.as_deref()),
            ("name", Some("givenName"))
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (p.name.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        assert!(AttrPath::parse("").is_err());
        assert!(AttrPath::parse("1abc").is_err());
        assert!(AttrPath::parse("urn:foo:").is_err());
        assert!(AttrPath::parse("name.").is_err());
        assert!(AttrPath::parse("abcé").is_err());
        assert!(AttrPath::parse("éééé:x").is_err());
    }
}
