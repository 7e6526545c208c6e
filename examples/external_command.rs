//! An external command collector written as a shell script (`examples/scripts/laptops.sh`),
//! configured the way a user would in `soc2.toml`, and run through the runner.
//!
//! `cargo run --example external_command`

use soc2_evidence::core::{EnvSecrets, Runner};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/scripts/laptops.sh");
    let toml = format!(
        r#"
[organization]
name = "Acme Corp"

[[command]]
name = "laptops"
program = "{script}"
kind = "mdm.laptop"
population = "laptops"
subject_field = "serial"
criteria = ["CC6.1"]
timeout_secs = 30
"#
    );
    let config = soc2_evidence::collectors::registry().parse_config(
        &toml,
        "example soc2.toml",
        std::path::Path::new("."),
    )?;
    let runner = Runner::from_config(&config, &EnvSecrets)?;
    let out = tempfile::tempdir()?;
    let run_dir = out.path().join("run");
    let manifest = runner
        .run("2026-01-01..2026-06-30".parse()?, &run_dir)
        .await?;
    let laptops = manifest
        .collector("laptops")
        .ok_or("laptops missing from run.json")?;
    println!(
        "collector laptops: {:?} {:?}",
        laptops.status, laptops.records
    );
    print!(
        "{}",
        std::fs::read_to_string(run_dir.join("laptops/laptops.jsonl"))?
    );
    let provenance = std::fs::read_to_string(run_dir.join("laptops/provenance.json"))?;
    println!("provenance:\n{provenance}");
    if !manifest.all_collectors_ok() {
        return Err(format!("collector failed: {:?}", laptops.error).into());
    }
    Ok(())
}
