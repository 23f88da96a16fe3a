//! `tessera apply` and `tessera export`: the configuration file read (YAML, TOML or JSON) and
//! written, the plan printed as a diff, and the secrets of what was created shown once. The
//! planning itself is the service layer's (`Services::apply_configuration`), which the REST
//! face calls too.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::Value;
use tessera_core::{Context, CoreError, Services};
use tessera_domain::FieldError;

/// Parses the file by its extension: `.toml`, `.json`, else YAML (of which JSON is a subset).
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Value> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let v = match ext {
        "toml" => toml::from_str::<Value>(text)
            .map_err(|e| anyhow::anyhow!("{}: not valid TOML: {e}", path.display()))?,
        "json" => serde_json::from_str::<Value>(text)
            .map_err(|e| anyhow::anyhow!("{}: not valid JSON: {e}", path.display()))?,
        _ => serde_yaml_ng::from_str::<Value>(text)
            .map_err(|e| anyhow::anyhow!("{}: not valid YAML: {e}", path.display()))?,
    };
    Ok(v)
}

/// The document as `format` (`yaml`, `toml` or `json`).
pub fn render(doc: &Value, format: &str) -> anyhow::Result<String> {
    Ok(match format {
        "yaml" => serde_yaml_ng::to_string(doc)?,
        "toml" => toml::to_string(doc)?,
        "json" => format!("{}\n", serde_json::to_string_pretty(doc)?),
        other => anyhow::bail!("--format: '{other}' is not one of yaml, toml, json"),
    })
}

/// Reads a client's `secretFrom`: `{env: NAME}` from this process's environment, `{file:
/// PATH}` relative to the configuration file (one trailing newline dropped).
fn resolve_secret(base: &Path, from: &Value, path: &str) -> Result<String, FieldError> {
    let obj = from
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| FieldError::new(path, "must be {env: NAME} or {file: PATH}"))?;
    let secret = match (obj.get("env"), obj.get("file")) {
        (Some(Value::String(name)), _) => std::env::var(name).map_err(|_| {
            FieldError::new(
                format!("{path}.env"),
                format!("the environment variable {name} is not set"),
            )
        })?,
        (_, Some(Value::String(file))) => {
            let p = base.join(file);
            let mut s = std::fs::read_to_string(&p).map_err(|e| {
                FieldError::new(
                    format!("{path}.file"),
                    format!("cannot read {}: {e}", p.display()),
                )
            })?;
            if s.ends_with('\n') {
                s.pop();
                if s.ends_with('\r') {
                    s.pop();
                }
            }
            s
        }
        _ => return Err(FieldError::new(path, "must be {env: NAME} or {file: PATH}")),
    };
    if secret.is_empty() {
        return Err(FieldError::new(path, "the secret it names is empty"));
    }
    Ok(secret)
}

/// `tessera apply -f FILE [--dry-run] [--prune]`.
pub async fn apply(
    s: &Services,
    ctx: &Context,
    file: &PathBuf,
    dry_run: bool,
    prune: bool,
) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    };
    let doc = parse(&text, file)?;
    let base = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let resolver = move |from: &Value, path: &str| resolve_secret(&base, from, path);
    let outcome = match s
        .apply_configuration(ctx, &doc, dry_run, prune, None, Some(&resolver))
        .await
    {
        Ok(o) => o,
        Err(CoreError::Validation(v)) => {
            let mut msg = format!("{} is refused; nothing was applied:", file.display());
            for e in &v.errors {
                msg.push_str(&format!("\n  {}: {}", e.field, e.message));
            }
            anyhow::bail!(msg);
        }
        Err(e) => return Err(e.into()),
    };
    for c in &outcome.changes {
        println!("{c}");
    }
    let count = |a: &str| outcome.changes.iter().filter(|c| c.action == a).count();
    println!(
        "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
        count("create"),
        count("update"),
        count("delete"),
        outcome.unchanged
    );
    if dry_run {
        println!("Dry run: nothing was changed.");
        return Ok(());
    }
    if outcome.changes.is_empty() {
        println!("Nothing to do.");
    } else {
        println!("Applied.");
    }
    if !outcome.secrets.is_empty() {
        println!("Secrets (shown only now; store them securely):");
        for sec in &outcome.secrets {
            println!(
                "  {} {}/{}: {}",
                sec.kind,
                sec.organization,
                sec.key,
                sec.secret.expose_secret()
            );
        }
    }
    Ok(())
}
