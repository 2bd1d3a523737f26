//! Forms scraped from HTML, as a browser reads them before submitting: [`forms`] finds every
//! `<form>` with its `<input>` and `<button>` elements, [`Form::fill`] says what submitting it
//! sends, and [`unescape`] decodes the character references in attribute values.
//!
//! A small tokenizer, not an HTML parser: it expects well-formed tags, which is what Sigil
//! writes, and reads only what a sign-in flow needs (the action, the method, named fields and
//! buttons with their values and `checked`).

/// An HTML form, as scraped.
#[derive(Debug, Clone)]
pub struct Form {
    /// The `action` attribute, unescaped (may be relative).
    pub action: String,
    /// The `method` attribute (`get` when absent).
    pub method: String,
    /// Its `<input>` and `<button>` elements that have a name, in document order.
    pub inputs: Vec<Input>,
}

/// An `<input>` or `<button>` with a name.
#[derive(Debug, Clone)]
pub struct Input {
    /// `input` or `button`.
    pub tag: String,
    /// The `type`, lower-cased (`text` for an input without one, `submit` for a button).
    pub kind: String,
    /// The `name`.
    pub name: String,
    /// The `value`, unescaped (empty when absent).
    pub value: String,
    /// Whether `checked` is present.
    pub checked: bool,
}

impl Form {
    /// The value of the first non-button field `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .find(|input| input.name == name && !is_button(input))
            .map(|input| input.value.as_str())
    }

    /// The field or button `name`, if the form has one.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// The buttons named `name` (their values).
    pub fn buttons(&self, name: &str) -> Vec<&str> {
        self.inputs
            .iter()
            .filter(|input| input.name == name && is_button(input))
            .map(|input| input.value.as_str())
            .collect()
    }

    /// What a browser would submit, with `fill` applied: every field with its value (checked
    /// checkboxes and radios only, no buttons), then each pair of `fill` replacing the field
    /// of that name or added after them (a button press, a checkbox ticked).
    pub fn fill<K: AsRef<str>, V: AsRef<str>>(&self, fill: &[(K, V)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .inputs
            .iter()
            .filter(|input| !is_button(input))
            .filter(|input| !matches!(input.kind.as_str(), "checkbox" | "radio") || input.checked)
            .map(|input| (input.name.clone(), input.value.clone()))
            .collect();
        for (name, value) in fill {
            let (name, value) = (name.as_ref(), value.as_ref());
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = value.to_owned(),
                None => pairs.push((name.to_owned(), value.to_owned())),
            }
        }
        pairs
    }
}

fn is_button(input: &Input) -> bool {
    matches!(input.kind.as_str(), "submit" | "button" | "image" | "reset")
}

/// Every `<form>` in `html` with its inputs and buttons. Simple scanning, not a parser: it
/// expects well-formed tags, which is what Sigil writes.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag(&lower, "form", at) {
        let Some((attributes, body_start)) = tag_attributes(html, start + "<form".len()) else {
            break;
        };
        let end = lower
            .get(body_start..)
            .and_then(|rest| rest.find("</form"))
            .map_or(html.len(), |offset| body_start + offset);
        let body = html.get(body_start..end).unwrap_or_default();
        found.push(Form {
            action: attribute(&attributes, "action").unwrap_or_default(),
            method: attribute(&attributes, "method").unwrap_or_else(|| "get".to_owned()),
            inputs: inputs(body),
        });
        at = end;
    }
    found
}

fn inputs(body: &str) -> Vec<Input> {
    let lower = body.to_ascii_lowercase();
    let mut found: Vec<(usize, Input)> = Vec::new();
    for tag in ["input", "button"] {
        let mut at = 0;
        while let Some(start) = find_tag(&lower, tag, at) {
            let Some((attributes, after)) = tag_attributes(body, start + 1 + tag.len()) else {
                break;
            };
            at = after;
            let Some(name) = attribute(&attributes, "name") else {
                continue;
            };
            let default_kind = if tag == "button" { "submit" } else { "text" };
            found.push((
                start,
                Input {
                    tag: tag.to_owned(),
                    kind: attribute(&attributes, "type")
                        .map_or_else(|| default_kind.to_owned(), |k| k.to_ascii_lowercase()),
                    name,
                    value: attribute(&attributes, "value").unwrap_or_default(),
                    checked: attributes.iter().any(|(n, _)| n == "checked"),
                },
            ));
        }
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, input)| input).collect()
}

/// The offset of the next `<tag` (followed by whitespace, `>` or `/`) in lower-cased `html`.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut at = from;
    loop {
        let start = at + lower.get(at..)?.find(&needle)?;
        let next = lower.as_bytes().get(start + needle.len()).copied();
        if matches!(next, Some(b' ' | b'\t' | b'\n' | b'\r' | b'>' | b'/')) {
            return Some(start);
        }
        at = start + needle.len();
    }
}

/// A tag's attributes: lower-cased names, unescaped values (`None` for a bare flag).
type Attributes = Vec<(String, Option<String>)>;

/// Parses attributes from `at` (just past the tag name) to the closing `>`; returns them
/// (names lower-cased, values unescaped) and the offset after `>`.
fn tag_attributes(html: &str, at: usize) -> Option<(Attributes, usize)> {
    let bytes = html.as_bytes();
    let mut i = at;
    let mut attributes = Vec::new();
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        if *bytes.get(i)? == b'>' {
            return Some((attributes, i + 1));
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = html.get(name_start..i)?.to_ascii_lowercase();
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attributes.push((name, None));
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match bytes.get(i)? {
            quote @ (b'"' | b'\'') => {
                let close = i + 1 + html.get(i + 1..)?.find(*quote as char)?;
                let value = html.get(i + 1..close)?;
                i = close + 1;
                value
            }
            _ => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    i += 1;
                }
                html.get(start..i)?
            }
        };
        attributes.push((name, Some(unescape(value))));
    }
}

fn attribute(attributes: &Attributes, name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone().unwrap_or_default())
}

/// Decodes HTML character references: the named ones Sigil writes (`&amp; &quot; &lt; &gt;
/// &apos;`) and numeric ones (`&#39;`, `&#x27;`). Anything else is left as it is.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let decoded = after.find(';').and_then(|end| {
            let entity = after.get(..end)?;
            let c = match entity {
                "amp" => '&',
                "quot" => '"',
                "lt" => '<',
                "gt" => '>',
                "apos" => '\'',
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn scrapes_forms_with_escaped_values() {
        let html = r#"<html><body>
            <FORM method="post" action="/account/login?x=1&amp;y=2">
              <input type="hidden" name="request" value="a&amp;b&quot;c&lt;d&gt;e&#39;f">
              <input type=hidden name=csrf value=tok-1 />
              <label>User <input name="username" type="text"></label>
              <input type="checkbox" name="remember" value="on">
              <input type="checkbox" name="ticked" value="yes" checked>
              <button type="submit" name="decision" value="allow">Allow</button>
              <button name="decision" value="deny">Deny</button>
            </FORM>
            <form action='https://app.test/cb'><input type='hidden' name='code' value='c'></form>
        </body></html>"#;
        let found = forms(html);
        assert_eq!(found.len(), 2);
        let login = &found[0];
        assert_eq!(login.action, "/account/login?x=1&y=2");
        assert_eq!(login.method, "post");
        assert_eq!(login.value("request"), Some("a&b\"c<d>e'f"));
        assert_eq!(login.value("csrf"), Some("tok-1"));
        assert_eq!(login.buttons("decision"), vec!["allow", "deny"]);
        let submitted = login.fill(&[("username", "alice"), ("decision", "allow")]);
        assert_eq!(
            submitted,
            vec![
                ("request".to_owned(), "a&b\"c<d>e'f".to_owned()),
                ("csrf".to_owned(), "tok-1".to_owned()),
                ("username".to_owned(), "alice".to_owned()),
                ("ticked".to_owned(), "yes".to_owned()),
                ("decision".to_owned(), "allow".to_owned()),
            ]
        );
        assert_eq!(found[1].action, "https://app.test/cb");
        assert_eq!(found[1].value("code"), Some("c"));
    }

    #[test]
    fn unescapes_references_and_leaves_stray_ampersands() {
        assert_eq!(unescape("a &amp; b &#x27;c&#39; &lt;&gt;"), "a & b 'c' <>");
        assert_eq!(unescape("x&y; &unknown; & end&"), "x&y; &unknown; & end&");
    }

    #[test]
    fn numeric_references_outside_unicode_are_left_as_written() {
        assert_eq!(unescape("&#X41;&#65;"), "AA");
        assert_eq!(unescape("&#xD800;&#1114112;&#;"), "&#xD800;&#1114112;&#;");
    }

    #[test]
    fn tags_are_matched_by_whole_name_only() {
        let html = "<formation action=/not-a-form></formation>\
                    <form\naction=/real><inputs name=no><input\tname=yes value=1></form>";
        let found = forms(html);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].action, "/real");
        assert_eq!(found[0].method, "get");
        let names: Vec<&str> = found[0].inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["yes"]);
    }

    #[test]
    fn fields_keep_document_order_and_default_kinds() {
        let html = r#"<form action="/a" method="POST">
              <button name="b1">One</button>
              <input name="t">
              <input type="hidden" value="no name">
              <button name="b2" type="BUTTON" value="x">Two</button>
              <input type="Radio" name="r" value="1">
              <input type="radio" name="r" value="2" checked>
            </form>"#;
        let form = &forms(html)[0];
        assert_eq!(form.method, "POST");
        let seen: Vec<(&str, &str, &str)> = form
            .inputs
            .iter()
            .map(|i| (i.tag.as_str(), i.kind.as_str(), i.name.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("button", "submit", "b1"),
                ("input", "text", "t"),
                ("button", "button", "b2"),
                ("input", "radio", "r"),
                ("input", "radio", "r"),
            ]
        );
        assert_eq!(form.input("t").unwrap().value, "");
        assert_eq!(form.value("b1"), None, "a button is not a field");
        assert_eq!(
            form.fill::<&str, &str>(&[]),
            vec![
                ("t".to_owned(), String::new()),
                ("r".to_owned(), "2".to_owned())
            ]
        );
    }

    #[test]
    fn a_form_without_a_closing_tag_runs_to_the_end_and_a_broken_tag_ends_the_scan() {
        let open = forms("<form action=/x><input name=a value=1>");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].value("a"), Some("1"));
        assert!(forms("<form action=\"/x").is_empty());
        assert!(forms("no forms here").is_empty());
    }
}
