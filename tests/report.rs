//! The auditor's report: grouped findings, provenance, population links, escaping and CSVs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use soc2_evidence::core::{
    async_trait, Check, CheckError, CollectContext, CollectError, Collector, EvidenceSink,
    EvidenceStore, Finding, FindingStatus, PopulationMode, PopulationSpec, Runner,
};
use soc2_evidence::report::{write_report, ReportOptions};

const HOSTILE: &str = "<script>alert('x')</script>";

struct Users;
#[async_trait]
impl Collector for Users {
    fn name(&self) -> &str {
        "idp"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut users = sink.open_raw(&PopulationSpec {
            name: "users".into(),
            kind: "idp.user".into(),
            schema_version: 1,
            criteria: vec!["CC6.1".into()],
            source: "Example IdP".into(),
            mode: PopulationMode::State,
        })?;
        let rec = users.provenance();
        rec.base_url("https://idp.example");
        rec.page("GET", "/api/users", &[("limit", "200")], b"[...]");
        rec.received("/api/users", 2);
        for (id, name) in [("u1", "=HYPERLINK(\"http://evil\")"), ("u2", HOSTILE)] {
            let data = serde_json::json!({"id": id, "name": name, "mfa": id == "u1"});
            users.emit_value(id, &data)?;
        }
        users.finish()?;
        Ok(())
    }
}

struct Mfa;
impl Check for Mfa {
    fn id(&self) -> &str {
        "idp.mfa"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "users have MFA"
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for r in store.read_dynamic("idp", "users")? {
            let r = r?;
            let ok = r.data["mfa"].as_bool().unwrap_or(false);
            out.push(Finding::new(
                self.id(),
                self.criteria(),
                if ok {
                    FindingStatus::Pass
                } else {
                    FindingStatus::Fail
                },
                r.subject_id.clone(),
                format!("user {} MFA: {ok}", r.data["name"].as_str().unwrap_or("")),
            ));
        }
        Ok(out)
    }
}

#[tokio::test]
async fn report_shows_findings_provenance_and_escapes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    Runner::new()
        .organization("Acme <Corp> & Sons")
        .collector(Box::new(Users))
        .check(Box::new(Mfa))
        .run("2026-01-01..2026-06-30".parse().unwrap(), &run)
        .await
        .unwrap();
    let summary = write_report(
        &run,
        &ReportOptions {
            signer_fingerprint: Some("SHA256:abc123".into()),
        },
    )
    .unwrap();
    let html = fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains("Acme &lt;Corp&gt; &amp; Sons"));
    assert!(
        !html.contains("<script"),
        "no script element, escaped or otherwise injected"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("SHA256:abc123"));
    assert!(html.contains("CC6.1"), "findings grouped by criterion");
    assert!(html.contains("Logical and Physical Access Controls"));
    assert!(html.contains(">u2</td>"), "the failing subject is listed");
    assert!(html.contains("https://idp.example"));
    assert!(html.contains("limit=200"));
    assert!(html.contains("href=\"./../idp/users.jsonl\""));
    assert!(html.contains("href=\"./idp-users.csv\""));
    for external in ["http://", "https://", "src=", "@import", "url("] {
        let outside_text = html
            .match_indices(external)
            .all(|(i, _)| !html[..i].ends_with("href=\"") && !html[..i].ends_with("src=\""));
        assert!(outside_text, "no external resource via {external}");
    }

    assert_eq!(summary.csv_files, vec!["report/idp-users.csv".to_string()]);
    let csv = fs::read_to_string(run.join("report/idp-users.csv")).unwrap();
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(rows[0], "subject_id,id,name,mfa");
    assert_eq!(rows[1], "u1,u1,\"'=HYPERLINK(\"\"http://evil\"\")\",true");

    // Deterministic: the same run gives the same page.
    let again = write_report(
        &run,
        &ReportOptions {
            signer_fingerprint: Some("SHA256:abc123".into()),
        },
    )
    .unwrap();
    assert_eq!(fs::read_to_string(again.index).unwrap(), html);
}
