//! The signal listener: one future that resolves on Ctrl-C (SIGINT) or SIGTERM, so every
//! long wait (a validation, a container, a whole run, the review page) can stop cleanly.

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
