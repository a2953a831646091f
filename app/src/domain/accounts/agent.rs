//! A session's browser in words ("Firefox 133 on Linux") from its `User-Agent` header, for
//! a person deciding whether they recognise it. Only the common families are named; anything
//! else keeps a short form of the header rather than a guess.

/// "Chrome 131 on Android", "Safari 17 on iPhone", "curl 8.5", or the header cut short.
pub fn describe_agent(agent: &str) -> String {
    let agent = agent.trim();
    if agent.is_empty() {
        return "Unknown browser".to_owned();
    }
    match (browser(agent), system(agent)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser,
        (None, _) => shorten(agent),
    }
}

/// The browser and its major version. Order matters: Edge and Opera also say "Chrome", and
/// Chrome also says "Safari".
fn browser(agent: &str) -> Option<String> {
    const FAMILIES: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
        ("curl/", "curl"),
        ("python-requests/", "Python requests"),
    ];
    FAMILIES.iter().find_map(|(marker, name)| {
        let version = agent.split(marker).nth(1)?;
        let major: String = version
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
            .split('.')
            .take(if *name == "curl" { 2 } else { 1 })
            .collect::<Vec<_>>()
            .join(".");
        Some(if major.is_empty() {
            (*name).to_owned()
        } else {
            format!("{name} {major}")
        })
    })
}

fn system(agent: &str) -> Option<&'static str> {
    const SYSTEMS: [(&str, &str); 7] = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    SYSTEMS
        .iter()
        .find(|(marker, _)| agent.contains(marker))
        .map(|(_, name)| *name)
}

fn shorten(agent: &str) -> String {
    const MAX: usize = 40;
    if agent.chars().count() <= MAX {
        agent.to_owned()
    } else {
        format!("{}…", agent.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::describe_agent;

    #[test]
    fn common_browsers_read_as_name_version_and_system() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Linux"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36", "Chrome 131 on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120 on Windows"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17 on iPhone"),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome 131 on Android"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "Safari 17 on macOS"),
            ("curl/8.5.0", "curl 8.5"),
            ("", "Unknown browser"),
            ("SomeBot", "SomeBot"),
        ];
        for (agent, words) in cases {
            assert_eq!(describe_agent(agent), words, "{agent}");
        }
        let long = "x".repeat(100);
        assert_eq!(describe_agent(&long).chars().count(), 41);
    }
}
