//! The RFC 7644 §3.4.2.2 filter language: AST, a recursive-descent parser with exact error
//! positions and size limits, and a `Display` that prints a filter the parser reads back.
//!
//! Attribute names and operators are case-insensitive. Following rule 18 of the product, a
//! comparison value that is not quoted is read as a string unless it is a JSON literal
//! (`true`, `false`, `null`, a number): Microsoft's reference tests send `userName sw O`.

use crate::error::ScimError;
use std::fmt;

/// Longest filter or path accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8192;
/// Deepest nesting of parentheses, `not` and value paths.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons in one filter.
pub const MAX_COMPARISONS: usize = 256;

/// `[urn ":"] attr ["." sub]`. The URN is split off at the last colon; whether it names a
/// known schema is decided when the path is resolved against a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn simple(attr: &str) -> Self {
        AttrPath {
            urn: None,
            attr: attr.to_string(),
            sub: None,
        }
    }

    /// Parses `[urn:]attr[.sub]`; `at` is the offset of `text` in the whole input, for errors.
    pub fn parse(text: &str, at: usize) -> Result<AttrPath, ScimError> {
        let (urn, rest) = if text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            match text.rfind(':') {
                Some(i) if i + 1 < text.len() => (Some(text[..i].to_string()), &text[i + 1..]),
                _ => {
                    return Err(syntax(
                        at,
                        &format!("'{text}' has no attribute name after the schema URN"),
                    ));
                }
            }
        } else {
            (None, text)
        };
        let mut parts = rest.split('.');
        let attr = parts.next().unwrap_or_default();
        let sub = parts.next();
        if parts.next().is_some() {
            return Err(syntax(
                at,
                &format!("'{text}' has more than one sub-attribute"),
            ));
        }
        check_name(attr, text, at)?;
        if let Some(sub) = sub {
            check_name(sub, text, at)?;
        }
        Ok(AttrPath {
            urn,
            attr: attr.to_string(),
            sub: sub.map(str::to_string),
        })
    }
}

fn check_name(name: &str, whole: &str, at: usize) -> Result<(), ScimError> {
    let ok = name.eq_ignore_ascii_case("$ref")
        || name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(syntax(
            at,
            &format!("'{whole}' is not a valid attribute path"),
        ))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<CompareOp> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
    /// Ordering operators (gt/ge/lt/le), which RFC 7644 refuses for booleans and binaries.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }
}

/// A comparison value (`compValue` of the ABNF).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            CompValue::Num(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[inner]`: `inner`'s paths name sub-attributes of one value of `attr`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses a whole filter (the `filter` query parameter or `.search` body).
    pub fn parse(input: &str) -> Result<Filter, ScimError> {
        let mut p = Parser::new(input)?;
        let f = p.or_expr(false)?;
        p.skip_ws();
        if !p.at_end() {
            return Err(p.error("unexpected text after the end of the filter"));
        }
        Ok(f)
    }

    fn needs_parens_in_and(&self) -> bool {
        matches!(self, Filter::Or(..))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(a, b) => {
                if a.needs_parens_in_and() {
                    write!(f, "({a})")?
                } else {
                    write!(f, "{a}")?
                }
                f.write_str(" and ")?;
                if b.needs_parens_in_and() || matches!(**b, Filter::And(..)) {
                    write!(f, "({b})")
                } else {
                    write!(f, "{b}")
                }
            }
            Filter::Or(a, b) => {
                write!(f, "{a} or ")?;
                if matches!(**b, Filter::Or(..)) {
                    write!(f, "({b})")
                } else {
                    write!(f, "{b}")
                }
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath ["." subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub path: AttrPath,
    pub filter: Option<Filter>,
    /// Sub-attribute after a value filter (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}

impl PatchPath {
    pub fn parse(input: &str) -> Result<PatchPath, ScimError> {
        let mut p = Parser::new(input).map_err(to_path_error)?;
        let r = p.patch_path().map_err(to_path_error)?;
        Ok(r)
    }

    /// The sub-attribute the path ends at, either `attr.sub` or `attr[..].sub`.
    pub fn sub(&self) -> Option<&str> {
        self.sub_after_filter
            .as_deref()
            .or(self.path.sub.as_deref())
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

fn to_path_error(mut e: ScimError) -> ScimError {
    e.scim_type = Some(crate::error::ScimType::InvalidPath);
    e.detail = e.detail.replacen("invalid filter", "invalid path", 1);
    e
}

fn syntax(at: usize, msg: &str) -> ScimError {
    ScimError::invalid_filter(format!("invalid filter at position {}: {msg}", at + 1))
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
    comparisons: usize,
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | ':' | '.' | '-')
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Result<Self, ScimError> {
        if s.len() > MAX_FILTER_LEN {
            return Err(ScimError::invalid_filter(format!(
                "invalid filter: longer than the limit of {MAX_FILTER_LEN} bytes"
            )));
        }
        Ok(Parser {
            s,
            pos: 0,
            depth: 0,
            comparisons: 0,
        })
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }
    fn error(&self, msg: &str) -> ScimError {
        let at = self.s[..self.pos].chars().count();
        syntax(at, msg)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than the limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    /// Reads the next word made of `accept` characters, without consuming it.
    fn peek_word(&self, accept: fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !accept(c)).unwrap_or(rest.len());
        &rest[..end]
    }

    /// Consumes a keyword (case-insensitive) if it is next and stands alone.
    fn keyword(&mut self, kw: &str) -> bool {
        let w = self.peek_word(|c| c.is_ascii_alphabetic());
        if w.eq_ignore_ascii_case(kw) {
            let after = self.rest()[w.len()..].chars().next();
            if after.is_none_or(|c| !is_path_char(c)) {
                self.pos += w.len();
                return true;
            }
        }
        false
    }

    fn or_expr(&mut self, inner: bool) -> Result<Filter, ScimError> {
        let mut left = self.and_expr(inner)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword("or") {
                let right = self.and_expr(inner)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self, inner: bool) -> Result<Filter, ScimError> {
        let mut left = self.unary(inner)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword("and") {
                let right = self.unary(inner)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, inner: bool) -> Result<Filter, ScimError> {
        self.skip_ws();
        if self.at_end() {
            return Err(self.error("expected an attribute, 'not' or '(' but the filter ended"));
        }
        let save = self.pos;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                self.enter()?;
                let f = self.group(inner)?;
                self.depth -= 1;
                return Ok(Filter::Not(Box::new(f)));
            }
            // An attribute that happens to be called "not…" is not supported; say what we expected.
            self.pos = save;
            return Err(self.error("'not' must be followed by a filter in parentheses"));
        }
        if self.peek() == Some('(') {
            self.enter()?;
            let f = self.group(inner)?;
            self.depth -= 1;
            return Ok(f);
        }
        self.attr_expr(inner)
    }

    fn group(&mut self, inner: bool) -> Result<Filter, ScimError> {
        self.eat('(');
        let f = self.or_expr(inner)?;
        self.skip_ws();
        if !self.eat(')') {
            return Err(self.error("expected ')'"));
        }
        Ok(f)
    }

    fn attr_path(&mut self) -> Result<AttrPath, ScimError> {
        let start = self.pos;
        let word = self.peek_word(is_path_char);
        if word.is_empty() {
            return Err(self.error("expected an attribute name"));
        }
        let at = self.s[..start].chars().count();
        let path = AttrPath::parse(word, at)?;
        self.pos += word.len();
        Ok(path)
    }

    fn attr_expr(&mut self, inner: bool) -> Result<Filter, ScimError> {
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            if inner {
                return Err(self.error("value filters cannot be nested"));
            }
            if path.sub.is_some() {
                return Err(
                    self.error("a value filter must follow an attribute, not a sub-attribute")
                );
            }
            self.enter()?;
            self.eat('[');
            let inner_filter = self.or_expr(true)?;
            self.skip_ws();
            if !self.eat(']') {
                return Err(self.error("expected ']'"));
            }
            self.depth -= 1;
            // Extension: `emails[type eq "work"].value eq "x"` means the element filter plus a
            // comparison on the same element (Entra's matching attribute looks like this).
            if self.eat('.') {
                let sub_start = self.pos;
                let sub = self.peek_word(is_path_char);
                let at = self.s[..sub_start].chars().count();
                let sub_path = AttrPath::parse(sub, at)?;
                if sub_path.urn.is_some() || sub_path.sub.is_some() {
                    return Err(self.error("expected a sub-attribute name after ']'"));
                }
                self.pos += sub.len();
                let cmp = self.comparison(sub_path)?;
                let filter = Filter::And(Box::new(inner_filter), Box::new(cmp));
                return Ok(Filter::ValuePath {
                    path,
                    filter: Box::new(filter),
                });
            }
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner_filter),
            });
        }
        self.comparison(path)
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter, ScimError> {
        let ws_start = self.pos;
        self.skip_ws();
        if self.pos == ws_start {
            return Err(self.error(&format!("expected a space and an operator after '{path}'")));
        }
        let op_word = self.peek_word(|c| c.is_ascii_alphabetic());
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(self.error(&format!(
                "more than the limit of {MAX_COMPARISONS} comparisons"
            )));
        }
        if op_word.eq_ignore_ascii_case("pr") {
            self.pos += 2;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(op_word) else {
            let shown = if op_word.is_empty() {
                self.peek_word(|c| !c.is_whitespace())
            } else {
                op_word
            };
            return Err(self.error(&format!(
                "'{shown}' is not an operator (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)"
            )));
        };
        self.pos += op_word.len();
        let ws_start = self.pos;
        self.skip_ws();
        if self.pos == ws_start || self.at_end() {
            return Err(self.error(&format!("expected a value after '{}'", op.as_str())));
        }
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn comp_value(&mut self) -> Result<CompValue, ScimError> {
        if self.peek() == Some('"') {
            let rest = self.rest();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(i);
                    break;
                }
            }
            let Some(end) = end else {
                return Err(self.error("a quoted value has no closing '\"'"));
            };
            let s: String = serde_json::from_str(&rest[..=end])
                .map_err(|_| self.error("a quoted value has an invalid escape sequence"))?;
            self.pos += end + 1;
            return Ok(CompValue::Str(s));
        }
        let word =
            self.peek_word(|c| !c.is_whitespace() && c != ')' && c != ']' && c != '(' && c != '[');
        if word.is_empty() {
            return Err(self.error("expected a value"));
        }
        let v = match word {
            w if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            w if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            w if w.eq_ignore_ascii_case("null") => CompValue::Null,
            w => match serde_json::from_str::<serde_json::Number>(w) {
                Ok(n) => CompValue::Num(n),
                Err(_) => CompValue::Str(w.to_string()),
            },
        };
        self.pos += word.len();
        Ok(v)
    }

    fn patch_path(&mut self) -> Result<PatchPath, ScimError> {
        let input = self.s.trim();
        if input.is_empty() {
            return Err(self.error("the path is empty"));
        }
        self.skip_ws();
        let path = self.attr_path()?;
        let mut filter = None;
        let mut sub_after_filter = None;
        if self.eat('[') {
            if path.sub.is_some() {
                return Err(
                    self.error("a value filter must follow an attribute, not a sub-attribute")
                );
            }
            self.enter()?;
            let f = self.or_expr(true)?;
            self.skip_ws();
            if !self.eat(']') {
                return Err(self.error("expected ']'"));
            }
            filter = Some(f);
            if self.eat('.') {
                let start = self.pos;
                let word = self.peek_word(is_path_char);
                let at = self.s[..start].chars().count();
                let sub = AttrPath::parse(word, at)?;
                if sub.urn.is_some() || sub.sub.is_some() {
                    return Err(self.error("expected a sub-attribute name after ']'"));
                }
                self.pos += word.len();
                sub_after_filter = Some(sub.attr);
            }
        }
        self.skip_ws();
        if !self.at_end() {
            return Err(self.error("unexpected text after the path"));
        }
        Ok(PatchPath {
            path,
            filter,
            sub_after_filter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        Filter::parse(s)
            .map(|f| f.to_string())
            .unwrap_or_else(|e| format!("ERR {}", e.detail))
    }

    #[test]
    fn parses_rfc_examples() {
        let cases = [
            r#"userName Eq "john""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            "title pr",
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ];
        for c in cases {
            let f = Filter::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let again = Filter::parse(&f.to_string()).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(f, again, "{c}");
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        assert_eq!(rt("a pr or b pr and c pr"), "a pr or b pr and c pr");
        let f = Filter::parse("a pr or b pr and c pr").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(..))));
        let g = Filter::parse("(a pr or b pr) and c pr").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.to_string(), "(a pr or b pr) and c pr");
    }

    #[test]
    fn case_insensitive_operators_and_keywords() {
        assert_eq!(
            rt(r#"username EQ "x" AND Active Eq TRUE"#),
            r#"username eq "x" and Active eq true"#
        );
        assert_eq!(rt(r#"NOT(title PR)"#), "not (title pr)");
    }

    #[test]
    fn unquoted_values_are_strings_unless_literals() {
        assert_eq!(rt("userName sw O"), r#"userName sw "O""#);
        assert_eq!(
            rt("meta.created gt 2015-10-10T14:38:21.86-07:00"),
            r#"meta.created gt "2015-10-10T14:38:21.86-07:00""#
        );
        assert_eq!(rt("x eq 42"), "x eq 42");
        assert_eq!(rt("x eq null"), "x eq null");
        assert_eq!(
            rt("a eq Employee and (b co example.com)"),
            r#"a eq "Employee" and b co "example.com""#
        );
    }

    #[test]
    fn value_path_with_trailing_sub_attribute() {
        let f = Filter::parse(r#"emails[type eq "work"].value eq "a@b.c""#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            f.to_string(),
            r#"emails[type eq "work" and value eq "a@b.c"]"#
        );
    }

    #[test]
    fn errors_say_where() {
        let e = Filter::parse(r#"userName xx "a""#)
            .err()
            .map(|e| e.detail)
            .unwrap_or_default();
        assert!(
            e.contains("position 10") && e.contains("'xx' is not an operator"),
            "{e}"
        );
        let e = Filter::parse(r#"userName eq "a"#)
            .err()
            .map(|e| e.detail)
            .unwrap_or_default();
        assert!(e.contains("no closing"), "{e}");
        let e = Filter::parse(r#"(a pr"#)
            .err()
            .map(|e| e.detail)
            .unwrap_or_default();
        assert!(e.contains("expected ')'"), "{e}");
        assert!(Filter::parse("").is_err());
        assert!(Filter::parse("a eq").is_err());
        assert!(Filter::parse("a pr b pr").is_err());
        assert!(Filter::parse(r#"emails[type[value eq "x"]]"#).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let deep = format!("{}a pr{}", "(".repeat(40), ")".repeat(40));
        let e = Filter::parse(&deep)
            .err()
            .map(|e| e.detail)
            .unwrap_or_default();
        assert!(e.contains("nested deeper"), "{e}");
        let wide = vec!["a pr"; 300].join(" or ");
        let e = Filter::parse(&wide)
            .err()
            .map(|e| e.detail)
            .unwrap_or_default();
        assert!(e.contains("comparisons"), "{e}");
        let long = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert!(Filter::parse(&long).is_err());
    }

    #[test]
    fn patch_paths() {
        let p =
            PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.path.attr, "emails");
        assert_eq!(p.sub(), Some("value"));
        assert!(p.filter.is_some());
        let p = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.path.attr, "manager");
        assert_eq!(p.sub(), Some("value"));
        let p =
            PatchPath::parse(r#"members[value eq "2819c223"]"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.to_string(), r#"members[value eq "2819c223"]"#);
        let e = PatchPath::parse("name..x")
            .err()
            .unwrap_or_else(ScimError::internal);
        assert_eq!(e.scim_type, Some(crate::error::ScimType::InvalidPath));
        assert!(PatchPath::parse("").is_err());
        assert!(PatchPath::parse(r#"emails[type eq "work"] junk"#).is_err());
    }
}
