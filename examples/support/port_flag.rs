//! The `--port N` (or `-p N`) flag the network examples share.

/// Reads `--port N` / `-p N` from `args` (the program's arguments without its name);
/// `default` when absent. Anything else is an error naming `program`'s usage.
pub(crate) fn port_flag(
    args: impl IntoIterator<Item = String>,
    default: u16,
    program: &str,
) -> Result<u16, String> {
    let mut args = args.into_iter();
    let mut port = default;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|e| format!("bad port {value:?}: {e}"))?;
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: {program} [--port N])"
                ));
            }
        }
    }
    Ok(port)
}
