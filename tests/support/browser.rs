//! Real clicks in Debian's Chromium: runs a scenario of `tests/browser/scenarios/` through Playwright
//! (`tests/browser/run.mjs`) and returns what it found. `.ci/run` installs Chromium and the scenarios'
//! packages (`npm ci --prefix tests/browser`); without them the browser tests are ignored, with the reason.

use serde_json::Value;
use std::path::PathBuf;

/// Where the browser scenarios and their packages live.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The outcome of a scenario: its `result` and every URL the browser requested.
pub struct Run {
    pub result: Value,
    pub visited: Vec<String>,
}

/// Runs `scenario` with `args`; panics with what the page showed when the scenario failed.
pub async fn run(scenario: &str, args: Value) -> Run {
    let output = tokio::process::Command::new("node")
        .current_dir(dir())
        .arg("run.mjs")
        .arg(scenario)
        .arg(args.to_string())
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (install Node.js and `npm ci --prefix tests/browser`)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    let answer: Value = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "scenario {scenario} printed no answer: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        answer["ok"] == true,
        "scenario {scenario} failed: {}\nat {}\nthe page said: {}\nstderr: {}",
        answer["error"].as_str().unwrap_or(""),
        answer["url"],
        answer["text"].as_str().unwrap_or(""),
        String::from_utf8_lossy(&output.stderr)
    );
    let visited = answer["visited"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Run {
        result: answer["result"].clone(),
        visited,
    }
}
