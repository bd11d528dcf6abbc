//! What an operator sees of a running node: `/healthz`, `/readyz` (flipping when every
//! worker is gone and back when one returns), `/metrics` parsed as Prometheus text,
//! `/api/status`, `qnode status`, and the dashboard rendered by a real headless browser.

use crate::common::http::{get, sample, scrape};
use crate::common::{fixed_pace, quiet, wait_for, Process};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn node(dir: &Path, http: u16, workers: &[&str], extra: &[&[&str]]) -> Process {
    quiet(|c| {
        c.args([
            "run",
            "--devnet",
            "--devnet-setup-powers",
            "128",
            "--config-dir",
        ])
        .arg(dir)
        .args(workers)
        .args(extra.concat())
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--frame-interval-ms",
            "1000",
        ])
        .args([
            "--http-listen",
            &format!("127.0.0.1:{http}"),
            "--ready-workers-secs",
            "3",
        ])
    })
}

fn worker(port: u16) -> Process {
    quiet(|c| {
        c.args(["worker", "--core", "0", "--difficulty-divisor", "10000"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
    })
}

#[test]
fn metrics_health_and_status_of_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let http = 26_100;
    let _node = node(
        dir.path(),
        http,
        &["--workers", "1", "--worker-base-port", "26110"],
        &[
            &["--log-format", "json", "--log-file", "logs/node.log"],
            &["--log-file-max-size", "1KiB", "--log-file-max-files", "3"],
        ],
    );
    wait_for(Duration::from_secs(90), "/healthz", || {
        get(http, "/healthz").filter(|(code, _)| *code == 200)
    });
    let ready = wait_for(Duration::from_secs(60), "/readyz 200", || {
        get(http, "/readyz").filter(|(code, _)| *code == 200)
    });
    assert!(ready.1.contains("\"ready\":true"), "{}", ready.1);
    wait_for(Duration::from_secs(60), "head frame 2", || {
        qnode_operator::status::read(dir.path()).filter(|s| s.head_frame >= 2)
    });

    let scrape = scrape(http);
    assert!(sample(&scrape, "qnode_head_frame", None) >= 2.0);
    assert!(sample(&scrape, "qnode_increments_total", None) >= 1.0);
    let workers_time = sample(
        &scrape,
        "qnode_increment_seconds_count",
        Some(("part", "workers")),
    );
    assert!(workers_time >= 1.0);
    assert!(sample(&scrape, "qnode_store_bytes", None) > 0.0);
    assert_eq!(sample(&scrape, "qnode_peers", None), 0.0);
    assert_eq!(sample(&scrape, "qnode_ready", None), 1.0);
    assert!(sample(&scrape, "qnode_unclaimed_reward", None) > 0.0);

    let (_, json) = get(http, "/api/status").unwrap();
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["workers"], 1);

    let out = crate::common::qnode(&["status", "--config-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let screen = crate::common::text(&out.stdout);
    assert!(screen.contains("state      running, ready"), "{screen}");
    assert!(screen.contains("workers    1 (0 restarts)"), "{screen}");
    assert!(screen.contains("problems   none"), "{screen}");
    // A devnet warns that it divides difficulties; the latest warning is shown.
    assert!(screen.contains("logged     WARN"), "{screen}");
    let peer_id = crate::common::qnode(&["peer-id", "--config-dir", dir.path().to_str().unwrap()]);
    let peer_id = crate::common::text(&peer_id.stdout);
    assert!(
        screen.contains(&format!("node       {}", peer_id.trim())),
        "{screen}"
    );
    log_files_are_json_lines_and_at_most_three(&dir.path().join("logs"));
}

/// `log-file-max-files 3`: node.log, node.log.1 and node.log.2 (rotation happened at
/// 1 KiB), each line one JSON object with the time, level, target and message.
fn log_files_are_json_lines_and_at_most_three(logs: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["node.log", "node.log.1", "node.log.2"]);
    let mut messages = 0;
    for name in &names {
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        // One line may cross the limit: the file is checked before each write.
        assert!(text.len() < 1024 + 2048, "{name}: {} bytes", text.len());
        for line in text.lines() {
            let entry: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
            for key in ["timestamp", "level", "target"] {
                assert!(entry[key].is_string(), "{key} in {line}");
            }
            messages += usize::from(entry["message"].is_string());
        }
    }
    assert!(messages > 0);
}

#[test]
fn readyz_flips_when_every_worker_is_gone_and_back_when_one_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (http, worker_port) = (26_200, 26_210);
    let first = worker(worker_port);
    let address = format!("http://127.0.0.1:{worker_port}");
    let _node = node(dir.path(), http, &["--worker-addr", &address], &[]);
    wait_for(Duration::from_secs(90), "ready", || {
        get(http, "/readyz").filter(|(code, _)| *code == 200)
    });
    drop(first);
    let (_, body) = wait_for(Duration::from_secs(30), "not ready", || {
        get(http, "/readyz").filter(|(code, _)| *code == 503)
    });
    assert!(body.contains("data worker"), "{body}");
    let _second = worker(worker_port);
    wait_for(Duration::from_secs(30), "ready again", || {
        get(http, "/readyz").filter(|(code, _)| *code == 200)
    });
}

/// Needs Debian's chromium (`.ci/run` installs it): `cargo test -p qnode --test operator
/// -- --ignored`.
#[test]
#[ignore]
fn the_dashboard_shows_the_real_head_and_peer_count_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args([
            "devnet",
            "--nodes",
            "2",
            "--base-port",
            "26300",
            "--worker-base-port",
            "26600",
        ])
        .args(fixed_pace(2))
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _devnet = Process(devnet);
    let node0 = dir.path().join("node-0");
    let http = 26_400; // node 0's dashboard: the devnet's base port + 100
    wait_for(
        Duration::from_secs(120),
        "node 0 with a peer and a head",
        || {
            qnode_operator::status::read(&node0)
                .filter(|s| s.head_frame >= 3 && s.peers.iter().any(|p| p.info.connected))
        },
    );
    // A peer is sampled every 10 s: wait for its first sample, for its small charts.
    wait_for(Duration::from_secs(30), "a peer's history", || {
        let (_, json) = get(http, "/api/status")?;
        let status: serde_json::Value = serde_json::from_str(&json).ok()?;
        status["peers"][0]["history"]
            .as_array()?
            .first()
            .map(|_| ())
    });
    let dom = rendered(http);
    the_page_shows_what_the_node_says(&dom, &node0);
    the_charts_have_axes_and_the_peer_its_small_charts(&dom);

    // Node 1 killed: node 0's page flags the peer as disconnected.
    let node1 = dir.path().join("node-1");
    // Only node 1's `qnode run` names its directory (its worker does not).
    let pids = crate::common::processes_mentioning(&node1.display().to_string());
    assert!(!pids.is_empty(), "node 1 is running");
    for pid in pids {
        crate::common::signal("KILL", pid);
    }
    wait_for(Duration::from_secs(30), "node 1 seen gone", || {
        qnode_operator::status::read(&node0).filter(|s| s.peers.iter().all(|p| !p.info.connected))
    });
    let dom = rendered(http);
    assert!(
        dom.contains("class=\"peer-disconnected\""),
        "the peer's row is flagged"
    );
    assert!(
        dom.contains("0 connected of 1 · 1 disconnected"),
        "the summary says so"
    );
}

/// The page's head (within 2 frames), its one peer and the devnet warning, against node 0's
/// own status.
fn the_page_shows_what_the_node_says(dom: &str, node0: &Path) {
    let status = qnode_operator::status::read(node0).unwrap();
    let shown = |id: &str| -> i64 {
        let start = dom
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no #{id} in {dom}"));
        let rest = &dom[start + id.len() + 6..];
        rest[..rest.find('<').unwrap()]
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("#{id}: {rest:.40}"))
    };
    let head = shown("head-frame");
    assert!(
        (head - status.head_frame as i64).abs() <= 2,
        "page {head}, node {}",
        status.head_frame
    );
    assert!(head > 0);
    assert_eq!(shown("peer-count"), 1, "one peer in a 2-node devnet");
    assert!(
        dom.contains("WARN DEVNET difficulty"),
        "recent warnings listed"
    );
}

/// The page at `http` after 5 s of (virtual) time in headless Chromium, as HTML.
fn rendered(http: u16) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://127.0.0.1:{http}/"))
        .output()
        .expect("chromium runs (apt-get install chromium)");
    crate::common::text(&out.stdout)
}

/// The head chart has time ticks and its last value labelled; the peer's row has its
/// bandwidth and score charts; a ready node shows no problem banner.
fn the_charts_have_axes_and_the_peer_its_small_charts(dom: &str) {
    let start = dom.find("id=\"head-chart\"").unwrap();
    let head_chart = &dom[start..start + dom[start..].find("</svg>").unwrap()];
    assert!(head_chart.contains("class=\"last\""), "{head_chart}");
    let is_time = |t: &str| {
        let b = t.as_bytes();
        t.len() == 8 && b[2] == b':' && b[5] == b':' && t.replace(':', "").parse::<u32>().is_ok()
    };
    let ticks = head_chart
        .split("text-anchor=\"middle\">")
        .skip(1)
        .filter(|rest| is_time(&rest[..rest.find('<').unwrap()]))
        .count();
    assert!(ticks >= 1, "time ticks on the x axis: {head_chart}");
    for chart in [
        "class=\"spark spark-bandwidth\"",
        "class=\"spark spark-score\"",
    ] {
        assert!(dom.contains(chart), "{chart} in the peer's row");
    }
    assert!(dom.contains("1 connected of 1"), "the peers' summary");
    assert!(
        dom.contains("id=\"ready-banner\" hidden"),
        "no problem banner on a ready node"
    );
}

/// `qnode completions bash` passes `bash -n` and completes the subcommands and `run`'s
/// options; zsh and fish get their own formats; `qnode man` is a roff page naming every
/// command, and `--out-dir` writes one page per command.
#[test]
fn completions_pass_bash_n_and_man_pages_list_every_command() {
    let bash = crate::common::qnode(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = crate::common::text(&bash.stdout);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qnode.bash");
    std::fs::write(&path, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        checked.status.success(),
        "{}",
        crate::common::text(&checked.stderr)
    );
    for word in ["devnet", "completions", "--log-format", "--http-listen"] {
        assert!(script.contains(word), "{word} completed");
    }
    let zsh = crate::common::text(&crate::common::qnode(&["completions", "zsh"]).stdout);
    assert!(zsh.starts_with("#compdef qnode"), "{zsh:.80}");
    let fish = crate::common::text(&crate::common::qnode(&["completions", "fish"]).stdout);
    assert!(fish.contains("complete -c qnode"), "{fish:.80}");
    assert!(!crate::common::qnode(&["completions", "tcsh"])
        .status
        .success());

    let man = crate::common::text(&crate::common::qnode(&["man"]).stdout);
    assert!(man.contains(".TH qnode 1"), "{man:.200}");
    assert!(man.contains("qnode\\-run(1)"), "subcommands listed");
    let pages = dir.path().join("man1");
    std::fs::create_dir(&pages).unwrap();
    let out = crate::common::qnode(&["man", "--out-dir", pages.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::text(&out.stderr));
    let run = std::fs::read_to_string(pages.join("qnode-run.1")).unwrap();
    assert!(
        run.contains("log\\-file\\-max\\-size"),
        "run's options documented"
    );
    assert!(pages.join("qnode-devnet.1").is_file() && pages.join("qnode.1").is_file());
}

#[test]
fn a_devnet_whose_reader_goes_away_stops_its_node_and_ends_quietly() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    // Ports 26700 (p2p), 26800 (dashboard), 26900 (API), workers from 28700.
    let mut devnet = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["devnet", "--nodes", "1", "--base-port", "26700"])
        .args(["--worker-base-port", "28700"])
        .args(fixed_pace(1))
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `qnode devnet | head`: the reader takes the first table, then goes.
    let mut reader = BufReader::new(devnet.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("NODE") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no table printed");
    }
    drop(reader);
    let status = wait_for(Duration::from_secs(60), "the devnet to end", || {
        devnet.try_wait().unwrap()
    });
    let mut stderr = String::new();
    devnet
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Stopped as by Ctrl-C: the node says it stopped, rather than lost its parent.
    let node = qnode_operator::status::read(&dir.path().join("node-0")).unwrap();
    assert!(node.stopped, "the node was stopped");
}
