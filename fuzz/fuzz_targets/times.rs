//! Time and duration parsing: any text is read or refused without a panic, and a time that is
//! read comes back the same through its RFC 3339 form.
#![no_main]

use app::domain::{time::parse_duration, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(at) = Timestamp::parse("at", text) {
        if let Some(written) = at.to_rfc3339() {
            assert_eq!(
                Timestamp::parse("at", &written).ok(),
                Some(at),
                "{text:?} → {written}"
            );
        }
    }
    for whole_day in [false, true] {
        let _ = Timestamp::parse_day_or_time("from", text, whole_day);
    }
    match parse_duration(text, false) {
        Ok(duration) => assert!(!duration.is_zero(), "{text:?}"),
        Err(message) => assert!(!message.is_empty()),
    }
    let _ = parse_duration(text, true);
});
