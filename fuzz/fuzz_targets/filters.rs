//! List filters and cursors as a query string brings them: read or refused without a panic; a
//! filter that is read keeps its limit in range, and a cursor reads back as it was written.
#![no_main]

use app::{
    domain::paging::{Cursor, MAX_LIMIT},
    model::DeploymentFilter,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &str| {
    if let Ok(filter) = serde_urlencoded::from_str::<DeploymentFilter>(query) {
        if let Ok(parsed) = filter.parse() {
            assert!((1..=MAX_LIMIT).contains(&parsed.limit), "{query:?}");
            if let (Some(from), Some(to)) = (parsed.from, parsed.to) {
                assert!(from < to, "{query:?}");
            }
        }
    }
    if let Ok(cursor) = Cursor::decode(query) {
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor), "{query:?}");
    }
});
