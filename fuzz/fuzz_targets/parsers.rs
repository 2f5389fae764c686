//! Every parser that reads client input, fed the same bytes: none may
//! panic, and what one accepts must parse again to itself.
#![no_main]

use invitations::domain::values::{email, Alias, DomainName, EmailAddress, Name};
use invitations::graphql::page::PageArgs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = EmailAddress::parse(text) {
        assert_eq!(EmailAddress::parse(address.as_str()).unwrap(), address);
        assert_eq!(email::normalise(text), address.as_str());
    }
    if let Ok(name) = Name::parse(text) {
        assert_eq!(Name::parse(name.as_str()).unwrap(), name);
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
    let _ = args.parse("fuzz");
});
