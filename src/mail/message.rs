//! The invitation email: subject, plain-text and HTML parts, kept together
//! here. HTML is escaped by askama; header values lose control characters,
//! so no user input can add a header.

use askama::Template;
use mail_send::mail_builder::{headers::address::Address, MessageBuilder};
use uuid::Uuid;

/// What an invitation email says.
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    pub invitation_id: Uuid,
    pub recipient: String,
    pub creator_name: String,
    pub creator_email: String,
    pub workspace_name: String,
}

/// The `MAIL_FROM` mailbox: `Name <address>` or a bare address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: Option<String>,
    pub address: String,
}

impl Sender {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (name, address) = match raw.rsplit_once('<') {
            Some((name, rest)) => {
                let address = rest.strip_suffix('>').ok_or("MAIL_FROM: missing `>`")?;
                let name = name.trim().trim_matches('"').trim();
                (
                    (!name.is_empty()).then(|| header_safe(name)),
                    address.trim(),
                )
            }
            None => (None, raw),
        };
        let ok = address.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && !d.is_empty()
                && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        if !ok {
            return Err(format!(
                "MAIL_FROM: {raw:?} is not `Name <address>` or an address"
            ));
        }
        Ok(Self {
            name,
            address: address.to_owned(),
        })
    }

    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d)
    }
}

/// C0 and C1 control characters (CR and LF among them) become spaces.
pub fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The access link of an invitation.
pub fn link(public_app_url: &str, invitation_id: Uuid) -> String {
    format!(
        "{}/invitations/{invitation_id}",
        public_app_url.trim_end_matches('/')
    )
}

/// Stable per outbox row, so a repeated delivery can be recognised.
pub fn message_id(outbox_id: Uuid, sender: &Sender) -> String {
    format!("{outbox_id}@{}", sender.domain())
}

pub fn subject(email: &InvitationEmail) -> String {
    header_safe(&format!(
        "{} invited you to {}",
        email.creator_name, email.workspace_name
    ))
}

#[derive(Template)]
#[template(
    ext = "txt",
    source = "Hello,

{{ creator_name }} ({{ creator_email }}) invited you to join the workspace \"{{ workspace_name }}\".

Open this link to accept the invitation:
{{ link }}

If you did not expect this invitation, you can ignore this email.
"
)]
struct TextPart<'a> {
    creator_name: &'a str,
    creator_email: &'a str,
    workspace_name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!DOCTYPE html>
<html>
<body style="font-family: sans-serif; line-height: 1.5">
<p>Hello,</p>
<p><strong>{{ creator_name }}</strong> ({{ creator_email }}) invited you to join the workspace <strong>{{ workspace_name }}</strong>.</p>
<p><a href="{{ link }}">Accept the invitation</a></p>
<p style="color: #666">Or open this link: {{ link }}</p>
<p style="color: #666">If you did not expect this invitation, you can ignore this email.</p>
</body>
</html>
"#
)]
struct HtmlPart<'a> {
    creator_name: &'a str,
    creator_email: &'a str,
    workspace_name: &'a str,
    link: &'a str,
}

/// The whole message, ready for SMTP or an `.eml` file.
pub fn render(
    email: &InvitationEmail,
    sender: &Sender,
    public_app_url: &str,
    message_id: &str,
) -> Result<Vec<u8>, String> {
    let link = link(public_app_url, email.invitation_id);
    // Names are one line everywhere, not only in headers.
    let creator_name = header_safe(&email.creator_name);
    let workspace_name = header_safe(&email.workspace_name);
    let text = TextPart {
        creator_name: &creator_name,
        creator_email: &email.creator_email,
        workspace_name: &workspace_name,
        link: &link,
    }
    .render()
    .map_err(|e| format!("rendering the text part: {e}"))?;
    let html = HtmlPart {
        creator_name: &creator_name,
        creator_email: &email.creator_email,
        workspace_name: &workspace_name,
        link: &link,
    }
    .render()
    .map_err(|e| format!("rendering the HTML part: {e}"))?;
    let from: Address<'_> = match &sender.name {
        Some(name) => (name.clone(), sender.address.clone()).into(),
        None => sender.address.clone().into(),
    };
    MessageBuilder::new()
        .from(from)
        .to(email.recipient.clone())
        .subject(subject(email))
        .message_id(message_id.to_owned())
        .text_body(text)
        .html_body(html)
        .write_to_vec()
        .map_err(|e| format!("building the message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(creator_name: &str, workspace_name: &str) -> InvitationEmail {
        InvitationEmail {
            invitation_id: Uuid::nil(),
            recipient: "carol@acme.test".into(),
            creator_name: creator_name.into(),
            creator_email: "ada@acme.test".into(),
            workspace_name: workspace_name.into(),
        }
    }

    fn sender() -> Sender {
        Sender::parse("Invitations <no-reply@acme.test>").unwrap()
    }

    fn text(e: &InvitationEmail) -> String {
        String::from_utf8(render(e, &sender(), "https://app.test/", "id@acme.test").unwrap())
            .unwrap()
    }

    #[test]
    fn subject_names_the_creator_and_the_workspace() {
        assert_eq!(subject(&email("Ada", "Acme")), "Ada invited you to Acme");
    }

    #[test]
    fn control_characters_in_names_become_spaces_in_headers() {
        let s = subject(&email("Ada\r\nBcc: eve@evil.test", "Acme\u{85}"));
        assert!(!s.chars().any(char::is_control), "{s:?}");
        let raw = text(&email("Ada\r\nBcc: eve@evil.test", "Acme"));
        assert!(
            !raw.lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{raw}"
        );
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            headers.contains("Subject: Ada  Bcc: eve@evil.test invited you to Acme"),
            "{headers}"
        );
    }

    #[test]
    fn names_are_escaped_in_the_html_part() {
        let raw = text(&email("Ada", "<script>alert(1)</script> & Co"));
        let html = raw.split("text/html").nth(1).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co"),
            "{html}"
        );
    }

    #[test]
    fn link_is_the_app_url_plus_the_invitation_id() {
        assert_eq!(
            link("https://app.test/", Uuid::nil()),
            "https://app.test/invitations/00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn message_id_is_on_the_sender_domain() {
        assert_eq!(
            message_id(Uuid::nil(), &sender()),
            "00000000-0000-0000-0000-000000000000@acme.test"
        );
        assert!(text(&email("Ada", "Acme")).contains("Message-ID: <id@acme.test>"));
    }

    #[test]
    fn sender_is_a_mailbox_or_an_address() {
        assert_eq!(Sender::parse("a@b.test").unwrap().name, None);
        assert_eq!(
            Sender::parse("\"Acme\" <a@b.test>")
                .unwrap()
                .name
                .as_deref(),
            Some("Acme")
        );
        assert!(Sender::parse("nobody").is_err());
    }
}
