//! Finds root causes in real tools' output. One file per ecosystem; each parser looks only
//! for its own tool's shapes, and `generic` answers when none matched. STUB.

use super::{Failure, StepLog};

/// Tool names accepted by `--tool` (detection is skipped, only that parser runs).
pub const TOOLS: &[&str] = &[];

/// Every failure found in one step's kept lines, in log order.
pub fn parse_step(step: &StepLog, tool: Option<&str>) -> Vec<Failure> {
    let _ = (step, tool);
    Vec::new()
}
