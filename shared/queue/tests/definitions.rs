//! `deploy/rabbitmq-definitions.json` (the topology shipped for operators, prefix `""`) must be
//! exactly what `RabbitQueue` declares at start: both come from `Topology`.

use cigo_queue::rabbitmq::{RabbitOptions, Topology};

#[test]
fn shipped_definitions_match_the_declared_topology() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/rabbitmq-definitions.json");
    let text = std::fs::read_to_string(path).expect("deploy/rabbitmq-definitions.json");
    let shipped: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let declared = Topology::new("").definitions(RabbitOptions::default().delivery_limit, "/");
    assert_eq!(
        shipped,
        declared,
        "deploy/rabbitmq-definitions.json is out of date; it should be:\n{}",
        serde_json::to_string_pretty(&declared).unwrap()
    );
}
