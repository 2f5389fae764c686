//! Every parser that reads client input, fed the same bytes: none may
//! panic, and what one accepts must parse again to itself.
#![no_main]

use invitations::domain::{
    alias::Alias,
    domain_name::DomainName,
    email::EmailAddress,
    paging::{PageArgs, PageRequest},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = EmailAddress::parse(text) {
        assert_eq!(EmailAddress::parse(email.as_str()).unwrap(), email);
    }
    if let Ok(domain) = DomainName::parse(text) {
        assert_eq!(DomainName::parse(domain.as_str()).unwrap(), domain);
    }
    let _ = Alias::parse(text);
    let _ = Alias::candidate(&Alias::base_from_name(text), 7);
    let args = PageArgs {
        after: Some(text.to_owned()),
        ..Default::default()
    };
    let _ = PageRequest::parse(&args, "fuzz");
});
