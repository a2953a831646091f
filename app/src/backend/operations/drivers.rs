//! Running one driver step: a `command` (a program, its output captured line by line, its
//! process group killed when it ends or times out) or an `http` call (a JSON body, a 2xx answer is success).

use std::{path::Path, process::Stdio, time::Duration};

use serde::Serialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::Command,
    sync::mpsc,
};

use super::{
    http::{seconds, HttpClient},
    settings::{CommandDriver, Driver, HttpDriver},
};
use crate::domain::{
    catalog::SlotColor,
    operations::{DriverAction, LogStream, OperationAction},
};

/// A line of driver output, on its way to the operation log.
pub type LogSender = mpsc::UnboundedSender<(LogStream, String)>;

/// Output lines longer than this are cut: a log is for people.
const MAX_LINE: usize = 2000;
/// How long output may keep coming after the program ended (a background child holding the
/// pipe open must not hold the operation).
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// What one driver step is asked to do; passed to a command as `SWITCHYARD_*` variables and
/// to an HTTP driver as the JSON body.
#[derive(Clone, Debug, Serialize)]
pub struct DriverCall {
    pub operation_id: i64,
    pub service: String,
    pub environment: String,
    /// The operation this step belongs to.
    pub operation: OperationAction,
    /// What this step does.
    pub action: DriverAction,
    pub target_slot: Option<SlotColor>,
    /// The target slot's upstream address.
    pub target_upstream: Option<String>,
    pub version: String,
    pub canary_weight: Option<u8>,
}

impl DriverCall {
    /// The call as environment variables.
    fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SWITCHYARD_OPERATION_ID", self.operation_id.to_string()),
            ("SWITCHYARD_SERVICE", self.service.clone()),
            ("SWITCHYARD_ENVIRONMENT", self.environment.clone()),
            ("SWITCHYARD_OPERATION", self.operation.to_string()),
            ("SWITCHYARD_ACTION", self.action.to_string()),
            (
                "SWITCHYARD_TARGET_SLOT",
                self.target_slot.map(|s| s.to_string()).unwrap_or_default(),
            ),
            (
                "SWITCHYARD_TARGET_UPSTREAM",
                self.target_upstream.clone().unwrap_or_default(),
            ),
            ("SWITCHYARD_VERSION", self.version.clone()),
            (
                "SWITCHYARD_CANARY_WEIGHT",
                self.canary_weight
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
            ),
        ]
    }
}

/// Whether `driver` can run at all on this machine (its program exists and may be run, its
/// header variables are set): checked before an operation takes the lock, so a broken
/// configuration refuses instead of failing halfway.
pub fn check(driver: &Driver) -> Result<(), String> {
    match driver {
        Driver::Command(command) => {
            let program = &command.program;
            let found = if program.components().count() > 1 {
                is_executable(program)
            } else {
                std::env::var_os("PATH").is_some_and(|path| {
                    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
                })
            };
            if found {
                Ok(())
            } else {
                Err(format!(
                    "its program {} does not exist on the server or may not be run",
                    program.display()
                ))
            }
        }
        Driver::Http(http) => http
            .headers
            .iter()
            .try_for_each(|(_, value)| expand(value).map(drop)),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs one step with `driver`; its output goes to `log`. The error says what failed.
pub async fn run(
    driver: &Driver,
    client: &HttpClient,
    call: &DriverCall,
    log: &LogSender,
) -> Result<(), String> {
    match driver {
        Driver::Command(command) => run_command(command, call, log).await,
        Driver::Http(http) => run_http(http, client, call, log).await,
    }
}

async fn run_command(
    driver: &CommandDriver,
    call: &DriverCall,
    log: &LogSender,
) -> Result<(), String> {
    let program = driver.program.display().to_string();
    let mut command = Command::new(&driver.program);
    command
        .args(&driver.args)
        // The server's own environment may hold secrets (the database URL): the program gets
        // only what it needs.
        .env_clear()
        .envs(
            ["PATH", "HOME", "LANG"]
                .into_iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
        )
        .envs(driver.env.iter().map(|(k, v)| (k, v)))
        .envs(call.variables())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout kills everything it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let group = ProcessGroup(
        child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw),
    );
    let readers = [
        child
            .stdout
            .take()
            .map(|out| forward(out, LogStream::Stdout, log.clone())),
        child
            .stderr
            .take()
            .map(|err| forward(err, LogStream::Stderr, log.clone())),
    ];
    let outcome = match tokio::time::timeout(driver.timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(match status.code() {
            Some(code) => format!("{program} exited with status {code}"),
            None => format!("{program} was killed by a signal"),
        }),
        Ok(Err(e)) => Err(format!("cannot wait for {program}: {e}")),
        Err(_) => {
            group.kill();
            let _ = child.wait().await;
            Err(format!(
                "{program} did not finish within {}; its process group was killed",
                seconds(driver.timeout)
            ))
        }
    };
    // Whatever the program left running in the background goes with it.
    group.kill();
    for reader in readers.into_iter().flatten() {
        if tokio::time::timeout(OUTPUT_GRACE, reader).await.is_err() {
            let _ = log.send((
                LogStream::Info,
                "(output after the program ended was not kept)".into(),
            ));
        }
    }
    outcome
}

/// A command driver's process group (the program and everything it started), killed when the
/// program ends, on a timeout, and when this is dropped: an operation cut off by a server stop
/// leaves nothing behind either.
struct ProcessGroup(Option<rustix::process::Pid>);

impl ProcessGroup {
    fn kill(&self) {
        if let Some(pid) = self.0 {
            // The group may be gone already; then there is nothing left to kill. Its id is not
            // reused while any member lives, so this cannot reach another program.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends each line of `output` to the log until it closes.
fn forward(
    output: impl AsyncRead + Unpin + Send + 'static,
    stream: LogStream,
    log: LogSender,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(output).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = log.send((stream, cut(line)));
        }
    })
}

fn cut(mut line: String) -> String {
    if line.len() > MAX_LINE {
        let mut end = MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

async fn run_http(
    driver: &HttpDriver,
    client: &HttpClient,
    call: &DriverCall,
    log: &LogSender,
) -> Result<(), String> {
    let headers = driver
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), expand(value)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let body = serde_json::to_string(call).map_err(|e| e.to_string())?;
    let answer = client
        .send(
            &driver.method,
            &driver.url,
            &headers,
            Some(body),
            driver.timeout,
        )
        .await?;
    for line in answer
        .body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
    {
        let _ = log.send((LogStream::Stdout, cut(line.to_owned())));
    }
    if answer.status.is_success() {
        Ok(())
    } else {
        Err(format!("{} answered {}", driver.url, answer.status))
    }
}

/// A header value with each `${NAME}` replaced by that environment variable of the server.
pub fn expand(template: &str) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("{template:?} opens ${{ without closing it"))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            format!("a header names ${{{name}}}, which is not set in the server's environment")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_take_variables_from_the_environment() {
        assert_eq!(
            expand("Bearer ${PATH}").ok(),
            std::env::var("PATH").ok().map(|p| format!("Bearer {p}"))
        );
        assert_eq!(expand("plain").as_deref(), Ok("plain"));
        assert!(expand("${SWITCHYARD_SURELY_UNSET_VARIABLE}")
            .unwrap_err()
            .contains("not set"));
        assert!(expand("${OPEN").is_err());
    }

    #[test]
    fn long_lines_are_cut_at_a_character_boundary() {
        let line = "é".repeat(MAX_LINE);
        let cut = cut(line);
        assert!(cut.len() <= MAX_LINE + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
