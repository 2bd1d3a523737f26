//! Scope values (RFC 6749 §3.3).
//!
//! A `scope` parameter is a list of scope tokens separated by spaces; a token is printable
//! ASCII except space, `"` and `\`. [`ScopeSet::parse`] is the one place such a value is split
//! and checked. A set keeps the order in which scopes were first named and drops repeats, so
//! the `scope` a token carries reads as it was asked for.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether `token` is a scope token: `1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Why a `scope` value is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A token holds a character RFC 6749 does not allow.
    #[error("scope contains characters RFC 6749 does not allow")]
    InvalidCharacters,
    /// The value names no scope.
    #[error("empty scope")]
    Empty,
}

/// Distinct scopes in the order first named; serialized as a list of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<String>);

impl ScopeSet {
    /// Parses a `scope` value: tokens separated by spaces (repeated spaces are tolerated),
    /// at least one, each a valid scope token.
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        let mut set = Self::default();
        for token in value.split(' ').filter(|token| !token.is_empty()) {
            if !is_scope_token(token) {
                return Err(ScopeError::InvalidCharacters);
            }
            set.insert(token);
        }
        if set.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(set)
    }

    /// Adds `scope` unless the set holds it already.
    pub fn insert(&mut self, scope: &str) {
        if !self.contains(scope) {
            self.0.push(scope.to_owned());
        }
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|own| own == scope)
    }

    /// The first scope of this set that `allowed` refuses, if any.
    pub fn first_refused(&self, allowed: impl Fn(&str) -> bool) -> Option<&str> {
        self.0
            .iter()
            .map(String::as_str)
            .find(|scope| !allowed(scope))
    }

    /// The scopes, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    /// The scopes of this set that `keep` keeps, in order.
    pub fn filtered(&self, keep: impl Fn(&str) -> bool) -> Self {
        Self(self.0.iter().filter(|scope| keep(scope)).cloned().collect())
    }

    /// This set with the scopes of `other` it lacks added at the end.
    pub fn union(mut self, other: &Self) -> Self {
        for scope in other.iter() {
            self.insert(scope);
        }
        self
    }

    /// The scopes as a slice, in order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, in order.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// Scopes already known to be scope tokens (a client's configured scopes, checked when the
/// configuration was loaded); a repeat is dropped.
impl FromIterator<String> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = String>>(scopes: I) -> Self {
        let mut set = Self::default();
        for scope in scopes {
            if !set.contains(&scope) {
                set.0.push(scope);
            }
        }
        set
    }
}

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The `scope` value: the scopes separated by single spaces.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_keeps_first_order_and_drops_repeats() {
        let set = ScopeSet::parse("  openid api.read openid  profile ").unwrap();
        assert_eq!(set.as_slice(), ["openid", "api.read", "profile"]);
        assert_eq!(set.to_string(), "openid api.read profile");
        assert!(set.contains("profile"));
        assert!(!set.contains("api"));
    }

    #[test]
    fn an_empty_value_or_a_bad_character_is_refused() {
        assert_eq!(ScopeSet::parse(""), Err(ScopeError::Empty));
        assert_eq!(ScopeSet::parse("   "), Err(ScopeError::Empty));
        for bad in ["api\"read", "api\\read", "api\tread", "é", "a\u{7f}"] {
            assert_eq!(
                ScopeSet::parse(&format!("openid {bad}")),
                Err(ScopeError::InvalidCharacters),
                "{bad:?}"
            );
        }
        assert!(
            ScopeSet::parse("!#[]~").is_ok(),
            "the edges of the allowed range"
        );
    }

    #[test]
    fn the_first_refused_scope_is_named() {
        let set = ScopeSet::parse("a b c").unwrap();
        assert_eq!(set.first_refused(|scope| scope != "b"), Some("b"));
        assert_eq!(set.first_refused(|_| true), None);
    }

    #[test]
    fn collecting_drops_repeats_and_union_appends_what_is_new() {
        let set: ScopeSet = ["a", "b", "a"].map(String::from).into_iter().collect();
        assert_eq!(set.as_slice(), ["a", "b"]);
        let more = ScopeSet::parse("c b").unwrap();
        assert_eq!(set.clone().union(&more).as_slice(), ["a", "b", "c"]);
        assert_eq!(set.filtered(|scope| scope != "a").as_slice(), ["b"]);
    }

    #[test]
    fn it_serializes_as_a_list() {
        let set = ScopeSet::parse("a b").unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["a","b"]"#);
        let back: ScopeSet = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(back, set);
    }
}
