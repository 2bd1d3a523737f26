//! The server-rendered pages: plain HTML forms that work without JavaScript, as text. Every
//! value is HTML-escaped. The responses that carry them (never cached, never framed) are
//! built in [`super::responses`].

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}\
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#b00020}ul{padding-left:1.2rem}";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// What the login page shows.
pub struct LoginPage<'a> {
    /// The sealed authorization request.
    pub request: &'a str,
    /// The form's CSRF token.
    pub csrf: &'a str,
    /// The user name to prefill (`login_hint`, or what was typed).
    pub username: Option<&'a str>,
    /// The client's name.
    pub client_name: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
}

/// A message above a form saying why it came back, if there is one.
fn alert(message: Option<&str>) -> String {
    message
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default()
}

/// The login form.
pub fn login(page: &LoginPage<'_>) -> String {
    let error = alert(page.error);
    document(
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
             <form method=\"post\" action=\"/account/login\">{request}{csrf}\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" required autofocus>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>",
            client = escape(page.client_name),
            request = hidden("request", page.request),
            csrf = hidden("csrf", page.csrf),
            username = escape(page.username.unwrap_or("")),
        ),
    )
}

/// A wait in words: "1 second", "40 seconds", "3 minutes" (rounded up).
pub fn wait_in_words(seconds: u64) -> String {
    let (count, unit) = if seconds < 60 {
        (seconds.max(1), "second")
    } else {
        (seconds.div_ceil(60), "minute")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// What the consent page shows.
pub struct ConsentPage<'a> {
    /// The sealed authorization request.
    pub request: &'a str,
    /// The form's CSRF token.
    pub csrf: &'a str,
    /// The client's name.
    pub client_name: &'a str,
    /// Who is signed in.
    pub username: &'a str,
    /// Each requested scope and what it means.
    pub scopes: Vec<(String, String)>,
}

/// The consent form.
pub fn consent(page: &ConsentPage<'_>) -> String {
    let scopes: String = page
        .scopes
        .iter()
        .map(|(name, description)| {
            format!(
                "<li><strong>{}</strong> — {}</li>",
                escape(name),
                escape(description)
            )
        })
        .collect();
    document(
        "Allow access?",
        &format!(
            "<h1>{client} wants access</h1><p>Signed in as <strong>{user}</strong>. \
             {client} asks for:</p><ul>{scopes}</ul>\
             <form method=\"post\" action=\"/account/consent\">{request}{csrf}\
             <label><input type=\"checkbox\" name=\"remember\" value=\"on\" checked> Remember my decision</label>\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            client = escape(page.client_name),
            user = escape(page.username),
            request = hidden("request", page.request),
            csrf = hidden("csrf", page.csrf),
        ),
    )
}

/// An error shown to the user (never redirected to an untrusted place).
pub fn error(title: &str, description: &str) -> String {
    document(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\">{}</p>",
            escape(title),
            escape(description)
        ),
    )
}

/// OAuth 2.0 Form Post Response Mode: a form that POSTs the parameters to the client. A
/// script submits it at once; without JavaScript, the user presses the button.
pub fn form_post(redirect_uri: &str, params: &[(String, String)]) -> String {
    let fields: String = params
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    document(
        "Continue",
        &format!(
            "<form method=\"post\" action=\"{}\">{fields}\
             <noscript><button type=\"submit\">Continue</button></noscript></form>\
             <script>document.forms[0].submit()</script>",
            escape(redirect_uri)
        ),
    )
}

/// Asks whether to sign out (when the request does not prove it comes from the user's app),
/// with `error` above the button when an earlier try could not be completed.
pub fn logout_confirm(csrf: &str, params: &[(&str, &str)], error: Option<&str>) -> String {
    let fields: String = params
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    document(
        "Sign out?",
        &format!(
            "<h1>Sign out?</h1>{error}<form method=\"post\" action=\"/connect/endsession\">{csrf}{fields}\
             <button type=\"submit\" name=\"confirm\" value=\"yes\">Sign out</button></form>",
            error = alert(error),
            csrf = hidden("csrf", csrf),
        ),
    )
}

/// After signing out, when there is nowhere to go back to.
pub fn signed_out() -> String {
    document(
        "Signed out",
        "<h1>You are signed out</h1><p>You can close this window.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_in_words(0), "1 second");
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(59), "59 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(900), "15 minutes");
    }

    #[test]
    fn values_are_escaped_in_text_and_attributes() {
        let page = login(&LoginPage {
            request: "\"><script>alert(1)</script>",
            csrf: "c",
            username: Some("<b>'x'</b>"),
            client_name: "A & B",
            error: None,
        });
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
        assert!(page.contains("&lt;b&gt;&#39;x&#39;&lt;/b&gt;"));
        assert!(page.contains("A &amp; B"));
    }
}
