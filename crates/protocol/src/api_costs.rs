//! What model calls cost (`GET /costs`, `pryx costs --json`, the dashboard's Costs page): totals
//! by day, agent, model and session over a range, and how much of each budget is used.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One line of a breakdown.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CostTotal {
    /// The day (`YYYY-MM-DD`, UTC), agent, model (`provider/model`) or session id
    /// (`(deleted)` for sessions that no longer exist); `total` for the whole range.
    pub key: String,
    pub calls: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

/// How much of a configured budget is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BudgetUse {
    /// `per day` or `per month`.
    pub budget: String,
    /// The config key that sets it.
    pub setting: String,
    pub limit_usd: f64,
    pub spent_usd: f64,
}

impl BudgetUse {
    /// Used share in percent (0 for a zero limit that nothing was spent against).
    pub fn percent(&self) -> f64 {
        if self.limit_usd <= 0.0 {
            return if self.spent_usd > 0.0 { 100.0 } else { 0.0 };
        }
        100.0 * self.spent_usd / self.limit_usd
    }
}

/// `GET /costs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CostReport {
    /// Start of the range (`YYYY-MM-DDT00:00:00`, UTC); `None` for all time.
    pub since: Option<String>,
    pub total: CostTotal,
    /// Oldest day first.
    pub by_day: Vec<CostTotal>,
    pub by_agent: Vec<CostTotal>,
    pub by_model: Vec<CostTotal>,
    /// Most expensive first.
    pub by_session: Vec<CostTotal>,
    pub budgets: Vec<BudgetUse>,
}
