//! The post-mortem renderer: whatever Markdown or HTML a writer pastes, nothing in the HTML
//! that comes out could run (`markdown::live` says what would).
#![no_main]

use app::domain::incidents::markdown::{live, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let html = render(text);
    if let Some(danger) = live(&html) {
        panic!("{danger} survived: {text:?} rendered as {html:?}");
    }
});
