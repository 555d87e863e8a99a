//! What `kakehashi sim <network>` prints: the whole `[networks.<id>]` table that points the
//! switch at the running simulator, header and nested tables included, so it pastes into a
//! switch config as is.
use kakehashi_adapter_core::RunningSimulator;

/// The simulator's adapter config as a complete `[networks.<kind>]` table, preceded by a
/// comment naming the merchant id a merchant needs where the simulator knows only some.
/// Nested values (Alipay+'s `wallets`) come out as `[[networks.<kind>.wallets]]`, which
/// belong to the network's table wherever the text lands in a config.
pub fn simulator_config_toml(
    kind: &str,
    sim: &RunningSimulator,
) -> Result<String, toml::ser::Error> {
    let mut networks = toml::Table::new();
    networks.insert(
        kind.to_owned(),
        toml::Value::Table(sim.adapter_config.clone()),
    );
    let mut root = toml::Table::new();
    root.insert("networks".into(), toml::Value::Table(networks));
    let table = toml::to_string(&root)?;
    let mut text = String::new();
    if let Some(id) = &sim.merchant_network_id {
        text.push_str(&format!(
            "# Merchants accepting {kind} need `network_ids.{kind} = \"{id}\"` (a merchant this \
             simulator knows).\n"
        ));
    }
    text.push_str(&table);
    Ok(text)
}
