//! k6's `options` as defaults of `run`'s flags: what a k6 script asks for
//! (VUs, duration, iterations, stages, an executor, thresholds, hosts), in
//! molotov's terms. The command line overrides them, as k6's does. What has
//! no counterpart yet is named, never silently dropped.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use molotov_metrics::{K6Script, K6Threshold, TREND_STATS_KEPT};
use serde_json::{Map, Value, json};

/// The flags' defaults (long names, as a config test's options), the
/// options left out, each with why, how the script reads its results (its
/// thresholds as it wrote them beside their translation, the statuses it
/// expects), and its scenarios when it has several (each then runs in a
/// process of its own).
#[derive(Debug, Default, PartialEq)]
pub struct FlagDefaults {
    pub flags: BTreeMap<String, Value>,
    pub left_out: Vec<String>,
    pub script: K6Script,
    pub scenarios: Vec<K6Scenario>,
}

/// What the JS SDK adds to the options: the statuses the script's
/// `http.setResponseCallback(http.expectedStatuses(…))` expects, as
/// inclusive `[min, max]` ranges.
const EXPECTED_STATUSES: &str = "molotov:expectedStatuses";

/// What the JS SDK adds when requests have their own `responseCallback`:
/// its k6 layer then records `http_req_failed` as a Rate itself.
const FAILED_PER_REQUEST: &str = "molotov:failedPerRequest";

/// One of several scenarios: its name, and when it starts (`startTime`).
#[derive(Debug, Clone, PartialEq)]
pub struct K6Scenario {
    pub name: String,
    pub start_after: Duration,
}

/// Options that change nothing the host measures or decides.
const WITHOUT_EFFECT: [&str; 8] = [
    "discardResponseBodies", // the SDK's k6/http honours it
    "userAgent",             // likewise
    "tags",                  // the SDK's sub-metrics read it
    "summaryTimeUnit",
    "setupTimeout",
    "teardownTimeout",
    "ext",
    "cloud",
];

/// Translates the JSON of a k6 script's `options`; of its scenarios, only
/// `only` when it has several and a process runs that one.
pub fn flag_defaults(options_json: &str, only: Option<&str>) -> anyhow::Result<FlagDefaults> {
    let options: Map<String, Value> =
        serde_json::from_str(options_json).context("the script's options are not an object")?;
    let mut out = FlagDefaults::default();
    let mut load = options.clone();
    if let Some(scenarios) = options.get("scenarios").and_then(Value::as_object) {
        let scenario = |name: &str| {
            (scenarios.get(name).and_then(Value::as_object))
                .with_context(|| format!("options.scenarios: no scenario {name} that is an object"))
        };
        match (scenarios.len(), only) {
            (0, _) => bail!("options.scenarios: no scenario"),
            (1, _) => {
                let name = scenarios.keys().next().expect("one");
                load = executor(scenario(name)?)?;
            }
            (_, Some(name)) => {
                load = executor(scenario(name)?)?;
                out.flags.insert("single-mode".into(), json!(name));
            }
            (_, None) => {
                for name in scenarios.keys() {
                    let start_after = match scenario(name)?.get("startTime") {
                        Some(time) => Duration::from_secs_f64(duration_ms(time)? / 1000.0),
                        None => Duration::ZERO,
                    };
                    executor(scenario(name)?)?;
                    out.scenarios.push(K6Scenario {
                        name: name.clone(),
                        start_after,
                    });
                }
                out.flags.insert("processes".into(), json!(scenarios.len()));
            }
        }
    }
    load_flags(&load, &mut out)?;
    if let Some(value) = options.get(EXPECTED_STATUSES) {
        let ranges = serde_json::from_value(value.clone())
            .context("expected statuses are [min, max] pairs")?;
        out.script.expected_statuses = Some(ranges);
    }
    for (key, value) in &options {
        match key.as_str() {
            "vus" | "duration" | "iterations" | "stages" | "scenarios" => {}
            "thresholds" => {
                let per_request = options.get(FAILED_PER_REQUEST) == Some(&Value::Bool(true));
                thresholds(value, per_request, &mut out)?
            }
            "hosts" => hosts(value, &mut out)?,
            EXPECTED_STATUSES | FAILED_PER_REQUEST => {}
            "summaryTrendStats" => summary_trend_stats(value, &mut out)?,
            "insecureSkipTLSVerify" => {
                out.flags.insert("insecure".into(), value.clone());
            }
            key if WITHOUT_EFFECT.contains(&key) => {}
            key => out.left_out.push(format!("{key} (not supported yet)")),
        }
    }
    Ok(out)
}

/// The names of the scenarios before `name`, in the order their processes
/// are numbered.
pub fn scenarios_before(options_json: &str, name: &str) -> anyhow::Result<Vec<String>> {
    let options: Map<String, Value> =
        serde_json::from_str(options_json).context("the script's options are not an object")?;
    let scenarios = options.get("scenarios").and_then(Value::as_object);
    Ok((scenarios.into_iter().flat_map(|s| s.keys()))
        .take_while(|other| *other != name)
        .cloned()
        .collect())
}

/// One scenario's executor as the plain options `load_flags` reads.
fn executor(scenario: &Map<String, Value>) -> anyhow::Result<Map<String, Value>> {
    let kind = scenario
        .get("executor")
        .and_then(Value::as_str)
        .context("options.scenarios: a scenario names its executor")?;
    let get = |key: &str| scenario.get(key).cloned();
    let mut plain = Map::new();
    let copy = |plain: &mut Map<String, Value>, from: &str, to: &str| {
        if let Some(value) = get(from) {
            plain.insert(to.into(), value);
        }
    };
    match kind {
        "constant-vus" | "shared-iterations" => {
            copy(&mut plain, "vus", "vus");
            copy(&mut plain, "duration", "duration");
            copy(&mut plain, "iterations", "iterations");
            copy(&mut plain, "maxDuration", "duration");
        }
        "per-vu-iterations" => {
            copy(&mut plain, "vus", "vus");
            copy(&mut plain, "maxDuration", "duration");
            copy(&mut plain, "iterations", "iterations per VU");
        }
        "ramping-vus" => copy(&mut plain, "stages", "stages"),
        "constant-arrival-rate" | "ramping-arrival-rate" => {
            let unit_ms = duration_ms(scenario.get("timeUnit").unwrap_or(&json!("1s")))?;
            let per_second = |value: &Value| -> anyhow::Result<f64> {
                Ok(value.as_f64().context("a rate is a number")? * 1000.0 / unit_ms)
            };
            let rate = match kind {
                "constant-arrival-rate" => {
                    get("rate").context("constant-arrival-rate needs a rate")?
                }
                _ => get("startRate").unwrap_or(json!(0)),
            };
            plain.insert(
                "rate".into(),
                json!(per_second(&rate)?.max(f64::MIN_POSITIVE)),
            );
            copy(&mut plain, "duration", "duration");
            copy(&mut plain, "preAllocatedVUs", "vus");
            if let Some(stages) = scenario.get("stages").and_then(Value::as_array) {
                let scaled = stages
                    .iter()
                    .map(|stage| {
                        let target = stage.get("target").context("a stage has a target")?;
                        Ok(json!({"duration": stage["duration"], "target": per_second(target)?}))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                plain.insert("stages".into(), Value::Array(scaled));
            }
        }
        other => bail!("options.scenarios: the {other} executor is not supported yet"),
    }
    Ok(plain)
}

fn load_flags(load: &Map<String, Value>, out: &mut FlagDefaults) -> anyhow::Result<()> {
    let vus = match load.get("vus") {
        Some(vus) => Some(
            vus.as_u64()
                .filter(|&n| n > 0)
                .context("options.vus: a positive whole number")?,
        ),
        None => None,
    };
    if let Some(rate) = load.get("rate") {
        out.flags.insert("rate".into(), rate.clone());
    }
    if let Some(vus) = vus {
        out.flags.insert("workers".into(), json!(vus));
    }
    if let Some(duration) = load.get("duration") {
        out.flags
            .insert("duration".into(), json!(duration_ms(duration)? / 1000.0));
    }
    if let Some(per_vu) = load.get("iterations per VU") {
        out.flags.insert("max-runs".into(), per_vu.clone());
    } else if let Some(iterations) = load.get("iterations") {
        let total = iterations
            .as_u64()
            .context("options.iterations: a whole number")?;
        let vus = vus.unwrap_or(1);
        // k6 shares them among the VUs; molotov gives each worker its share.
        out.flags
            .insert("max-runs".into(), json!(total.div_ceil(vus)));
        if total % vus != 0 {
            out.left_out.push(format!(
                "iterations: {total} over {vus} VUs runs {} ({} per VU)",
                total.div_ceil(vus) * vus,
                total.div_ceil(vus)
            ));
        }
    }
    if let Some(stages) = load.get("stages").and_then(Value::as_array) {
        let stages = stages
            .iter()
            .map(|stage| {
                let seconds = duration_ms(&stage["duration"])? / 1000.0;
                let target = stage["target"]
                    .as_f64()
                    .context("a stage's target is a number")?;
                Ok(format!("{seconds}s:{target}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        out.flags.insert("stages".into(), json!(stages.join(",")));
        // Molotov's stages are the workers in the closed model.
        if !load.contains_key("rate") {
            out.flags.remove("workers");
        }
    }
    Ok(())
}

/// A k6 duration: `"1m30s"`, `"500ms"`, `"2h"`, or a number of milliseconds.
fn duration_ms(value: &Value) -> anyhow::Result<f64> {
    if let Some(ms) = value.as_f64() {
        return Ok(ms);
    }
    let text = value
        .as_str()
        .with_context(|| format!("{value} is not a duration"))?;
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .with_context(|| format!("`{text}` is not a duration (say 30s, 1m30s, 500ms)"))?;
        let number: f64 = rest[..digits]
            .parse()
            .with_context(|| format!("`{text}` is not a duration (say 30s, 1m30s, 500ms)"))?;
        rest = &rest[digits..];
        let (unit_ms, len) = [
            ("ms", 1.0),
            ("s", 1000.0),
            ("m", 60_000.0),
            ("h", 3_600_000.0),
        ]
        .into_iter()
        .find(|(unit, _)| rest.starts_with(unit))
        .map(|(unit, ms)| (ms, unit.len()))
        .with_context(|| format!("`{text}` is not a duration (say 30s, 1m30s, 500ms)"))?;
        total += number * unit_ms;
        rest = &rest[len..];
    }
    Ok(total)
}

/// `options.hosts` (`{"name": "ip"}` or `"ip:port"`) as `--connect-to`.
fn hosts(value: &Value, out: &mut FlagDefaults) -> anyhow::Result<()> {
    let hosts = value.as_object().context("options.hosts: an object")?;
    let rules = hosts
        .iter()
        .map(|(name, to)| {
            let to = to
                .as_str()
                .context("options.hosts: each maps to an address")?;
            let (host, port) = match to.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    (host, port)
                }
                _ => (to, ""),
            };
            Ok(format!("{name}::{host}:{port}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    out.flags.insert("connect-to".into(), json!(rules));
    Ok(())
}

/// k6's thresholds as molotov's `--threshold` expressions.
fn thresholds(value: &Value, per_request: bool, out: &mut FlagDefaults) -> anyhow::Result<()> {
    let by_metric = value.as_object().context("options.thresholds: an object")?;
    // What `http_req_failed: rate` is judged by: k6's failed requests.
    let failed = match per_request {
        true => "custom http_req_failed: rate".to_string(),
        false => unexpected(out.script.expected_statuses.as_deref()),
    };
    let mut exprs = Vec::new();
    for (metric, list) in by_metric {
        let list = match list {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        for item in list {
            let (text, abort, delay) = match &item {
                Value::String(text) => (text.clone(), false, None),
                Value::Object(o) => (
                    o.get("threshold")
                        .and_then(Value::as_str)
                        .context("a threshold object has `threshold`")?
                        .to_string(),
                    o.get("abortOnFail")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    o.get("delayAbortEval").map(duration_ms).transpose()?,
                ),
                other => bail!("options.thresholds.{metric}: {other} is not a threshold"),
            };
            match threshold(metric, &text, &failed)? {
                Some(mut expr) => {
                    if abort {
                        expr.push_str(" abort");
                        if let Some(ms) = delay {
                            expr.push_str(&format!(" after {}s", ms / 1000.0));
                        }
                    }
                    out.script.thresholds.push(K6Threshold {
                        metric: metric.clone(),
                        source: text,
                        expr: expr.clone(),
                    });
                    exprs.push(expr);
                }
                None => out
                    .left_out
                    .push(format!("threshold {metric}: {text} (not judged yet)")),
            }
        }
    }
    if !exprs.is_empty() {
        out.flags.insert("thresholds".into(), json!(exprs));
    }
    Ok(())
}

/// One threshold (`p(95)<500` on `metric`) in molotov's grammar, or none
/// when molotov has no such measure yet; `failed` is the measure of
/// `http_req_failed: rate`.
fn threshold(key: &str, text: &str, failed: &str) -> anyhow::Result<Option<String>> {
    let (metric, filter) = match key.split_once('{') {
        Some((metric, tags)) => (metric.trim(), Some(tags.trim_end_matches('}'))),
        None => (key, None),
    };
    let at = text
        .find(['<', '>', '='])
        .with_context(|| format!("threshold {metric}: `{text}` has no comparison"))?;
    let (aggregation, comparison) = (text[..at].trim(), text[at..].trim());
    let op_len = if comparison[1..].starts_with('=') {
        2
    } else {
        1
    };
    let (op, bound) = (&comparison[..op_len], comparison[op_len..].trim());
    bound
        .parse::<f64>()
        .with_context(|| format!("threshold {metric}: `{bound}` is not a number"))?;
    let latency = |aggregation: &str| -> Option<String> {
        Some(match aggregation {
            "avg" => "mean".into(),
            "med" => "p50".into(),
            "min" | "max" => aggregation.into(),
            p if p.starts_with("p(") && p.ends_with(')') => {
                let n = &p[2..p.len() - 1];
                match n {
                    "99.9" => "p999".into(),
                    n => format!("p{n}"),
                }
            }
            _ => return None,
        })
    };
    let name = match filter.map(tag_filter) {
        None => None,
        // Requests are kept by name: the host's own measure.
        Some(tags)
            if REQUEST_METRICS.contains(&metric) && tags.len() == 1 && tags[0].0 == "name" =>
        {
            Some(tags[0].1.to_string())
        }
        // Any other filter is a sub-metric the JS SDK's k6 layer records
        // under the threshold's key (guest-sdk-js/k6/submetrics.js).
        Some(_) => return Ok(recorded(metric, key, aggregation, op, bound, latency)),
    };
    let prefix = |what: String| match &name {
        Some(name) => format!("{name}: {what}"),
        None => what,
    };
    Ok(match (metric, aggregation) {
        ("http_req_duration", aggregation) => {
            latency(aggregation).map(|m| prefix(format!("{m} {op} {bound}ms")))
        }
        // k6's failed requests: no response, or an unexpected status.
        ("http_req_failed", "rate") => Some(format!("{failed} {op} {bound}")),
        ("http_reqs", "count") => Some(prefix(format!("count {op} {bound}"))),
        ("http_reqs", "rate") => Some(prefix(format!("rps {op} {bound}"))),
        // The rest is kept among the run's custom metrics, under its key.
        _ => recorded(metric, key, aggregation, op, bound, latency),
    })
}

/// k6's timings that the run keeps as custom timings (milliseconds): the
/// host's parts of each request, and the k6 layer's `group_duration`.
const TIMED: [&str; 6] = [
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "group_duration",
];

/// `summaryTrendStats`: those a trend has; the others named as left out.
fn summary_trend_stats(value: &Value, out: &mut FlagDefaults) -> anyhow::Result<()> {
    let stats: Vec<String> = serde_json::from_value(value.clone())
        .context("options.summaryTrendStats: a list of statistics")?;
    let (kept, missing): (Vec<_>, Vec<_>) =
        (stats.into_iter()).partition(|stat| TREND_STATS_KEPT.contains(&stat.as_str()));
    if !missing.is_empty() {
        out.left_out.push(format!(
            "summaryTrendStats {} (molotov keeps {})",
            missing.join(", "),
            TREND_STATS_KEPT.join(", ")
        ));
    }
    out.script.trend_stats = kept;
    Ok(())
}

/// The `unexpected` measure for the statuses a script expects.
fn unexpected(expected: Option<&[(u16, u16)]>) -> String {
    let Some(ranges) = expected else {
        return "unexpected".into();
    };
    let ranges: Vec<String> = (ranges.iter())
        .map(|&(min, max)| match min == max {
            true => min.to_string(),
            false => format!("{min}-{max}"),
        })
        .collect();
    format!("unexpected({})", ranges.join(","))
}

/// The request metrics whose `{name:…}` filter the host measures itself
/// (it keeps requests by name, but not their statuses: a request's
/// `http_req_failed` is a sub-metric).
const REQUEST_METRICS: [&str; 2] = ["http_req_duration", "http_reqs"];

/// `a:1, b:"x"` (a threshold key's braces) as (tag, value) pairs.
fn tag_filter(tags: &str) -> Vec<(&str, &str)> {
    tags.split(',')
        .map(|pair| {
            let (tag, value) = pair.split_once(':').unwrap_or((pair, ""));
            (tag.trim(), value.trim().trim_matches(['"', '\'']))
        })
        .collect()
}

/// Whether `metric` is the script's own rather than one of k6's built-in.
fn is_custom(metric: &str) -> bool {
    let builtin = [
        "checks",
        "iterations",
        "vus",
        "vus_max",
        "data_sent",
        "data_received",
        "iteration_duration",
        "group_duration",
    ];
    !(builtin.contains(&metric)
        || metric.starts_with("http_req_")
        || metric == "http_reqs"
        || metric.starts_with("grpc_")
        || metric.starts_with("ws_"))
}

/// A threshold on a custom metric recorded as `name`, judged by what it
/// recorded: a Counter's count, a Rate's share of true values, a Counter's
/// per second, or a Trend's statistic.
fn custom_threshold(
    name: &str,
    aggregation: &str,
    op: &str,
    bound: &str,
    latency: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    match aggregation {
        "count" | "value" => Some(format!("custom {name}: value {op} {bound}")),
        "rate" => Some(format!("custom {name}: rate {op} {bound}")),
        aggregation => latency(aggregation).map(|m| format!("custom {name}: {m} {op} {bound}")),
    }
}

/// A threshold on `metric` judged on the custom metric the run keeps under
/// `key`, the threshold's key as the script wrote it: the k6 layer's
/// `checks` and sub-metrics (filtered by tags), the host's timed parts of
/// requests, and the script's own metrics.
fn recorded(
    metric: &str,
    key: &str,
    aggregation: &str,
    op: &str,
    bound: &str,
    latency: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    match (metric, aggregation) {
        (timed, aggregation) if timed == "http_req_duration" || TIMED.contains(&timed) => {
            latency(aggregation).map(|m| format!("custom {key}: {m} {op} {bound}ms"))
        }
        ("http_req_failed" | "checks", "rate") | ("http_reqs", "count" | "rate") => {
            custom_threshold(key, aggregation, op, bound, latency)
        }
        (metric, aggregation) if is_custom(metric) => {
            custom_threshold(key, aggregation, op, bound, latency)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(options: Value) -> FlagDefaults {
        flag_defaults(&options.to_string(), None).expect("translated")
    }

    #[test]
    fn vus_duration_and_thresholds() {
        let out = flags(json!({
            "vus": 10, "duration": "1m30s",
            "thresholds": {
                "http_req_duration": ["p(95)<500", {"threshold": "avg<200", "abortOnFail": true, "delayAbortEval": "10s"}],
                "http_req_duration{name:login}": ["max<=1000"],
                "http_req_failed": ["rate<0.01"],
                "my_trend": ["p(99.9)<50"],
                "checks": ["rate>0.99"],
            },
        }));
        assert_eq!(out.flags["workers"], json!(10));
        assert_eq!(out.flags["duration"], json!(90.0));
        assert_eq!(
            out.flags["thresholds"],
            json!([
                "custom checks: rate > 0.99",
                "p95 < 500ms",
                "mean < 200ms abort after 10s",
                "login: max <= 1000ms",
                "unexpected < 0.01",
                "custom my_trend: p999 < 50",
            ])
        );
        assert!(out.left_out.is_empty(), "{:?}", out.left_out);
    }

    #[test]
    fn tag_filters_are_sub_metrics_judged_under_their_key() {
        let out = flags(json!({"thresholds": {
            "http_req_duration{status:200}": ["p(95)<500"],
            "http_req_failed{method:GET, name:'refused'}": ["rate>0.9"],
            "http_reqs{type:api}": ["count==8", "rate>1"],
            "checks{kind:echo}": ["rate==1"],
            "my_trend{kind:a}": ["max<10"],
            "my_trend{name:a}": ["avg<10"],
            "http_req_duration{group:::login}": ["p(95)<500"],
            "http_req_waiting{status:200}": ["p(95)<500"],
            "http_req_waiting": ["p(95)<500"],
            "group_duration{group:::login}": ["max<900"],
            "http_req_blocked": ["p(95)<500"],
        }}));
        assert_eq!(
            out.flags["thresholds"],
            json!([
                "custom checks{kind:echo}: rate == 1",
                "custom group_duration{group:::login}: max < 900ms",
                "custom http_req_duration{group:::login}: p95 < 500ms",
                "custom http_req_duration{status:200}: p95 < 500ms",
                "custom http_req_failed{method:GET, name:'refused'}: rate > 0.9",
                "custom http_req_waiting: p95 < 500ms",
                "custom http_req_waiting{status:200}: p95 < 500ms",
                "custom http_reqs{type:api}: value == 8",
                "custom http_reqs{type:api}: rate > 1",
                "custom my_trend{kind:a}: max < 10",
                "custom my_trend{name:a}: mean < 10",
            ])
        );
        assert_eq!(
            out.left_out,
            ["threshold http_req_blocked: p(95)<500 (not judged yet)"]
        );
        for expr in out.flags["thresholds"].as_array().expect("thresholds") {
            let expr = expr.as_str().expect("text");
            expr.parse::<molotov_metrics::Threshold>()
                .unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }

    #[test]
    fn summary_trend_stats_are_those_a_trend_has() {
        let out =
            flags(json!({"summaryTrendStats": ["avg", "p(50)", "p(99.9)", "count", "p(75)"]}));
        assert_eq!(out.script.trend_stats, ["avg", "p(50)", "p(99.9)"]);
        assert_eq!(
            out.left_out,
            [
                "summaryTrendStats count, p(75) (molotov keeps avg, min, med, max, p(50), p(90), p(95), p(99), p(99.9))"
            ]
        );
    }

    #[test]
    fn iterations_are_shared_among_the_vus() {
        let out = flags(json!({"vus": 4, "iterations": 10}));
        assert_eq!(out.flags["max-runs"], json!(3));
        assert_eq!(
            out.left_out,
            ["iterations: 10 over 4 VUs runs 12 (3 per VU)"]
        );
        assert_eq!(flags(json!({"iterations": 5})).flags["max-runs"], json!(5));
    }

    #[test]
    fn stages_and_executors() {
        let out = flags(
            json!({"stages": [{"duration": "30s", "target": 20}, {"duration": "1m", "target": 0}]}),
        );
        assert_eq!(out.flags["stages"], json!("30s:20,60s:0"));
        let out = flags(json!({"scenarios": {"steady": {
            "executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1m", "duration": "2m", "preAllocatedVUs": 5,
        }}}));
        assert_eq!(out.flags["rate"], json!(0.5));
        assert_eq!(out.flags["workers"], json!(5));
        assert_eq!(out.flags["duration"], json!(120.0));
        let out = flags(
            json!({"scenarios": {"each": {"executor": "per-vu-iterations", "vus": 3, "iterations": 7}}}),
        );
        assert_eq!(
            (out.flags["workers"].clone(), out.flags["max-runs"].clone()),
            (json!(3), json!(7))
        );
    }

    #[test]
    fn hosts_become_connect_to_rules() {
        let out =
            flags(json!({"hosts": {"test.k6.io": "127.0.0.1:8080", "a.example": "10.0.0.1"}}));
        assert_eq!(
            out.flags["connect-to"],
            json!(["a.example::10.0.0.1:", "test.k6.io::127.0.0.1:8080"])
        );
    }

    #[test]
    fn several_scenarios_are_processes_each_running_one() {
        let two = json!({"scenarios": {
            "browse": {"executor": "constant-vus", "vus": 3, "duration": "10s"},
            "buy": {"executor": "constant-arrival-rate", "rate": 5, "duration": "5s", "preAllocatedVUs": 2, "startTime": "2s"},
        }});
        let whole = flags(two.clone());
        assert_eq!(whole.flags["processes"], json!(2));
        let starts: Vec<_> = (whole.scenarios.iter())
            .map(|s| (s.name.as_str(), s.start_after.as_secs()))
            .collect();
        assert_eq!(starts, [("browse", 0), ("buy", 2)]);
        let buy = flag_defaults(&two.to_string(), Some("buy")).expect("translated");
        assert_eq!(buy.flags["single-mode"], json!("buy"));
        assert_eq!(buy.flags["rate"], json!(5.0));
        assert_eq!(buy.flags["workers"], json!(2));
        assert!(buy.scenarios.is_empty());
        let none = flag_defaults(&two.to_string(), Some("sell")).unwrap_err();
        assert_eq!(
            none.to_string(),
            "options.scenarios: no scenario sell that is an object"
        );
    }

    #[test]
    fn the_statuses_a_script_expects_read_its_failed_requests() {
        let out = flags(json!({"molotov:expectedStatuses": [[200, 299], [404, 404]]}));
        assert_eq!(
            out.script.expected_statuses,
            Some(vec![(200, 299), (404, 404)])
        );
        assert!(out.script.expects(404) && out.script.expects(204));
        assert!(!out.script.expects(302) && !out.script.expects(500));
        let default = flags(json!({})).script;
        assert!(
            default.expects(200) && default.expects(399),
            "k6's default: 200-399"
        );
        assert!(!default.expects(199) && !default.expects(400) && !default.expects(404));
        let judged = flags(json!({
            "molotov:expectedStatuses": [[200, 299], [404, 404]],
            "thresholds": {"http_req_failed": ["rate<0.01"], "http_req_failed{name:a}": ["rate<0.1"]},
        }));
        assert_eq!(
            judged.flags["thresholds"],
            json!([
                "unexpected(200-299,404) < 0.01",
                "custom http_req_failed{name:a}: rate < 0.1"
            ])
        );
        // Requests with their own responseCallback: the k6 layer's Rate.
        let own = flags(json!({
            "molotov:failedPerRequest": true,
            "thresholds": {"http_req_failed": ["rate<0.01"]},
        }));
        assert_eq!(
            own.flags["thresholds"],
            json!(["custom http_req_failed: rate < 0.01"])
        );
        assert!(own.left_out.is_empty(), "{:?}", own.left_out);
        assert!(out.left_out.is_empty(), "{:?}", out.left_out);
    }

    #[test]
    fn what_cannot_be_run_is_one_clear_error() {
        let bad = flag_defaults(&json!({"duration": "soon"}).to_string(), None)
            .unwrap_err()
            .to_string();
        assert_eq!(bad, "`soon` is not a duration (say 30s, 1m30s, 500ms)");
        let typo = flag_defaults(
            &json!({"thresholds": {"http_req_duration": ["p(95) 500"]}}).to_string(),
            None,
        );
        assert!(typo.unwrap_err().to_string().contains("has no comparison"));
        assert_eq!(
            flags(json!({"noConnectionReuse": true})).left_out,
            ["noConnectionReuse (not supported yet)"]
        );
    }
}
