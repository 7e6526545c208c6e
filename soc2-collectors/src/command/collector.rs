//! Running the program and turning its output into records.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{CollectContext, CollectError, Collector, EvidenceSink};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use super::config::CommandConfig;

/// How much of stderr is kept for the error message.
const STDERR_TAIL: usize = 2048;

/// Runs one `[[command]]` program as a collector.
#[derive(Debug, Clone)]
pub struct CommandCollector {
    name: String,
    config: CommandConfig,
    program: PathBuf,
}

impl CommandCollector {
    /// Builds the collector instance `name`; a relative `program` containing a `/` is
    /// resolved against `base_dir` (the config file's directory), a bare name is looked up
    /// on `PATH`.
    pub fn new(name: &str, config: CommandConfig, base_dir: &Path) -> Result<Self, ConfigError> {
        let p = Path::new(&config.program);
        let program = if p.is_absolute() || !config.program.contains('/') {
            p.to_path_buf()
        } else {
            base_dir.join(p)
        };
        Ok(Self {
            name: name.to_string(),
            config,
            program,
        })
    }

    fn location(&self, line: u64) -> String {
        format!("{} stdout line {line}", self.program.display())
    }
}

#[async_trait]
impl Collector for CommandCollector {
    fn name(&self) -> &str {
        &self.name
    }

    fn collector_type(&self) -> &str {
        "command"
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let cfg = &self.config;
        let period = ctx.period();
        let (start, end) = (period.start().to_string(), period.end().to_string());
        let mut out = sink.open_raw(&cfg.population_spec())?;

        let mut child = Command::new(&self.program)
            .args(&cfg.args)
            .arg(&start)
            .arg(&end)
            .env("SOC2_PERIOD_START", &start)
            .env("SOC2_PERIOD_END", &end)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CollectError::Input {
                location: self.program.display().to_string(),
                message: format!("could not start the program: {e}"),
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| CollectError::Source("no stdout".into()))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| CollectError::Source("no stderr".into()))?;
        // Drain stderr concurrently so a chatty program cannot block on a full pipe.
        let stderr_task = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf).await;
            let tail = buf.len().saturating_sub(STDERR_TAIL);
            String::from_utf8_lossy(&buf[tail..]).trim().to_string()
        });

        let timeout = Duration::from_secs(cfg.timeout_secs);
        let mut received = 0u64;
        let read_all = async {
            let mut lines = BufReader::new(stdout);
            let mut line = String::new();
            let mut n = 0u64;
            loop {
                line.clear();
                let read = lines
                    .read_line(&mut line)
                    .await
                    .map_err(|e| CollectError::Input {
                        location: self.location(n + 1),
                        message: format!("could not read output: {e}"),
                    })?;
                if read == 0 {
                    return Ok::<(), CollectError>(());
                }
                n += 1;
                out.provenance().hash(line.as_bytes());
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| CollectError::Input {
                        location: self.location(n),
                        message: format!("not valid JSON: {e}"),
                    })?;
                if !value.is_object() {
                    return Err(CollectError::Input {
                        location: self.location(n),
                        message: "expected a JSON object".into(),
                    });
                }
                let subject = match value.get(&cfg.subject_field) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(serde_json::Value::Number(num)) => num.to_string(),
                    _ => {
                        return Err(CollectError::Input {
                            location: self.location(n),
                            message: format!(
                                "record has no {:?} field to use as its subject id \
                                 (set subject_field in the [[command]] section)",
                                cfg.subject_field
                            ),
                        })
                    }
                };
                out.emit_value(&subject, &value)?;
                received += 1;
            }
        };
        let outcome = tokio::time::timeout(timeout, read_all).await;
        let read_result = match outcome {
            Err(_) => {
                let _ = child.kill().await;
                Err(CollectError::Timeout(timeout))
            }
            Ok(r) => r,
        };
        if let Err(e) = read_result {
            let _ = child.kill().await;
            return Err(e);
        }
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(CollectError::Source(format!("waiting for program: {e}"))),
            Err(_) => {
                let _ = child.kill().await;
                return Err(CollectError::Timeout(timeout));
            }
        };
        let stderr_tail = stderr_task.await.unwrap_or_default();
        if !status.success() {
            let mut message = format!("program exited with {status}");
            if !stderr_tail.is_empty() {
                message.push_str(&format!("; stderr: {stderr_tail}"));
            }
            return Err(CollectError::Input {
                location: self.program.display().to_string(),
                message,
            });
        }

        let program = self.program.display().to_string();
        let mut params: Vec<(String, String)> = cfg
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("arg{}", i + 1), a.clone()))
            .collect();
        params.push(("period_start".into(), start.clone()));
        params.push(("period_end".into(), end.clone()));
        let params_ref: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // The digest already covers stdout exactly as received, line by line.
        let rec = out.provenance();
        rec.page("exec", &program, &params_ref, &[]);
        rec.received(&program, received);
        rec.note(format!("exit status: {status}"));
        out.finish()?;
        Ok(())
    }
}
