//! Reading a merchant code a partner brings back: strictly parsed (`qr::merchant::identify`),
//! one of this switch's merchants and tills, and (for a static code) exactly the code the
//! switch issues for that place, so a hand-made payload naming our merchant is not one.
use std::collections::{BTreeMap, BTreeSet};

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use tonic::Status;

use super::reason::{FieldErrors, GatewayReason};
use crate::config::{Config, MerchantConfig};
use crate::qr::merchant::{IdentifyError, Place, dynamic_code, identify, static_code};
use crate::qr::{Initiation, QrSettings};

/// Our merchants as their codes name them.
#[derive(Debug, Clone)]
pub struct MerchantCodes {
    settings: QrSettings,
    merchants: BTreeMap<String, MerchantConfig>,
    /// Terminal id -> its merchant id.
    terminals: BTreeMap<String, String>,
    /// Networks a partner of the gateway is bound to: the switch issues dynamic codes for
    /// these alone.
    partner_networks: BTreeSet<String>,
}

/// A code resolved to one of our merchants, for a partner's network.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub merchant_id: String,
    pub merchant_name: String,
    pub category_code: String,
    pub currency: Currency,
    /// The till the code belongs to; `None` for a merchant-wide code.
    pub terminal_id: Option<String>,
    pub dynamic: bool,
    /// A dynamic code's amount.
    pub amount: Option<Money>,
    /// A dynamic code's reference: its payment's id without the prefix.
    pub reference: Option<String>,
}

// === impl MerchantCodes ===

impl MerchantCodes {
    pub fn from_config(config: &Config) -> Self {
        Self {
            settings: config.qr.clone(),
            merchants: config
                .merchants
                .iter()
                .map(|m| (m.id.clone(), m.clone()))
                .collect(),
            terminals: config
                .terminals
                .iter()
                .map(|t| (t.id.clone(), t.merchant_id.clone()))
                .collect(),
            partner_networks: config
                .partners
                .values()
                .map(|p| p.network.clone())
                .collect(),
        }
    }

    /// Whether a partner of the gateway speaks for `network`.
    pub fn has_partner(&self, network: &str) -> bool {
        self.partner_networks.contains(network)
    }

    /// Whether the merchant has codes at all (`qr` settings).
    pub fn merchant_has_codes(&self, merchant_id: &str) -> bool {
        self.merchants
            .get(merchant_id)
            .is_some_and(|m| m.qr.is_some())
    }

    /// The switch's dynamic code for one payment at one till (the merchant-wide code when
    /// the till's id does not fit in a code).
    pub fn issue_dynamic(
        &self,
        merchant_id: &str,
        terminal_id: &str,
        amount: &Money,
        reference: &str,
    ) -> Result<String, String> {
        let merchant = self
            .merchants
            .get(merchant_id)
            .ok_or_else(|| format!("merchant `{merchant_id}` is not configured"))?;
        let at_till = Place {
            store_id: None,
            terminal_id: Some(terminal_id),
        };
        dynamic_code(&self.settings, merchant, at_till, *amount, reference)
            .or_else(|_| {
                dynamic_code(
                    &self.settings,
                    merchant,
                    Place::default(),
                    *amount,
                    reference,
                )
            })
            .map(|payload| payload.encode())
            .map_err(|e| e.to_string())
    }

    /// Resolves `raw` for a partner of `network`; the errors are this API's statuses.
    #[allow(clippy::result_large_err)]
    pub fn resolve(&self, raw: &str, network: &str) -> Result<Resolved, Status> {
        let unknown = || {
            GatewayReason::MerchantCodeUnknown.status(
                "the merchant code is not one of this switch's merchants' codes",
                &[],
            )
        };
        let code = match identify(&self.settings, raw) {
            Ok(code) => code,
            Err(IdentifyError::NotOurs) => return Err(unknown()),
            Err(e) => {
                let mut errors = FieldErrors::default();
                errors.push("merchant_code", GatewayReason::MerchantCodeFormat, e);
                errors.finish()?;
                return Err(unknown());
            }
        };
        let merchant = self.merchants.get(&code.merchant_id).ok_or_else(unknown)?;
        let qr = merchant.qr.as_ref().ok_or_else(unknown)?;
        if let Some(terminal) = &code.terminal_id
            && self.terminals.get(terminal) != Some(&merchant.id)
        {
            return Err(unknown());
        }
        if code.initiation == Initiation::Static {
            let place = Place {
                store_id: code.store_id.as_deref(),
                terminal_id: code.terminal_id.as_deref(),
            };
            let ours = static_code(&self.settings, merchant, place).map_err(|_| unknown())?;
            if ours.encode() != raw {
                return Err(unknown());
            }
        }
        if !merchant.networks.iter().any(|n| n == network) {
            return Err(GatewayReason::NetworkNotEnabled.status(
                format!("the merchant does not accept {network}"),
                &[("network", network)],
            ));
        }
        Ok(Resolved {
            merchant_id: merchant.id.clone(),
            merchant_name: qr.name.clone(),
            category_code: merchant.category_code.clone(),
            currency: code.currency,
            terminal_id: code.terminal_id,
            dynamic: code.initiation == Initiation::Dynamic,
            amount: code.amount,
            reference: code.reference,
        })
    }
}
