use super::*;
use crate::schema::ResourceKind;
use serde_json::json;

fn user() -> &'static ResourceType {
    ResourceType::of(ResourceKind::User)
}

fn base() -> Map<String, Value> {
    let v = json!({
        "userName": "ann@example.com",
        "active": true,
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"value": "ann@work.com", "type": "work", "primary": true}, {"value": "ann@home.org", "type": "home"}]
    });
    v.as_object().cloned().unwrap_or_default()
}

fn run(rt: &ResourceType, res: &Map<String, Value>, body: Value) -> ScimResult<Patched> {
    let ops = parse_request(&body)?;
    apply(rt, res, &ops)
}

fn patch(body: Value) -> Value {
    Value::Object(
        run(user(), &base(), body)
            .unwrap_or_else(|e| panic!("{e}"))
            .resource,
    )
}

fn err(body: Value) -> ScimError {
    run(user(), &base(), body)
        .err()
        .unwrap_or_else(|| panic!("expected an error"))
}

fn ops(list: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": list})
}

#[test]
fn entra_disable_in_both_dialects() {
    for op in [
        json!({"op": "Replace", "path": "active", "value": "False"}),
        json!({"op": "replace", "path": "active", "value": false}),
        json!({"op": "Add", "path": "active", "value": "False"}),
        json!({"op": "replace", "value": {"active": false}}),
        json!({"op": "REPLACE", "value": {"ACTIVE": "false"}}),
    ] {
        assert_eq!(
            patch(ops(json!([op.clone()])))["active"],
            json!(false),
            "{op}"
        );
    }
}

#[test]
fn pathless_dotted_and_urn_keys() {
    let r = patch(ops(json!([{"op": "replace", "value": {
        "name.givenName": "Anne",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
        "id": "ignored", "displayName": "Anne Lee"
    }}])));
    assert_eq!(r["name"], json!({"givenName": "Anne", "familyName": "Lee"}));
    assert_eq!(
        r["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        json!({"employeeNumber": "7", "department": "R&D"})
    );
    assert_eq!(r["displayName"], json!("Anne Lee"));
    assert!(r.get("id").is_none());
}

#[test]
fn value_filter_replace_updates_or_adds() {
    let r = patch(ops(
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@work.com"}]),
    ));
    assert_eq!(r["emails"][0]["value"], json!("new@work.com"));
    assert_eq!(r["emails"][0]["primary"], json!(true));
    let r = patch(ops(
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"}]),
    ));
    assert_eq!(
        r["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555"}])
    );
    let e = err(ops(
        json!([{"op": "replace", "path": "emails[value co \"x\"].display", "value": "d"}]),
    ));
    assert_eq!(e.scim_type, Some(crate::ScimType::NoTarget));
}

#[test]
fn add_to_multi_valued_moves_primary() {
    let r = patch(ops(
        json!([{"op": "add", "path": "emails", "value": [{"value": "n@x", "type": "other", "primary": true}]}]),
    ));
    let emails = r["emails"].as_array().cloned().unwrap_or_default();
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[0]["primary"], json!(false));
    assert_eq!(emails[2]["primary"], json!(true));
    // Adding an existing value again changes nothing.
    let r = patch(ops(
        json!([{"op": "add", "path": "emails", "value": [{"value": "ann@home.org", "type": "home"}]}]),
    ));
    assert_eq!(r["emails"].as_array().map(Vec::len), Some(2));
}

#[test]
fn removes() {
    let r = patch(ops(
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
    ));
    assert_eq!(r["emails"].as_array().map(Vec::len), Some(1));
    let r = patch(ops(
        json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
    ));
    assert!(r["emails"][0].get("primary").is_none());
    let r = patch(ops(
        json!([{"op": "remove", "path": "name.familyName"}, {"op": "remove", "path": "emails"}]),
    ));
    assert_eq!(r["name"], json!({"givenName": "Ann"}));
    assert!(r.get("emails").is_none());
    let r = patch(ops(
        json!([{"op": "remove", "path": "emails", "value": [{"value": "ann@work.com"}]}]),
    ));
    assert_eq!(
        r["emails"],
        json!([{"value": "ann@home.org", "type": "home"}])
    );
    let r = patch(ops(json!([{"op": "remove", "path": "name"}])));
    assert!(r.get("name").is_none());
}

#[test]
fn refusals() {
    assert_eq!(
        err(ops(json!([{"op": "remove"}]))).scim_type,
        Some(crate::ScimType::NoTarget)
    );
    assert_eq!(
        err(ops(json!([{"op": "remove", "path": "userName"}]))).scim_type,
        Some(crate::ScimType::Mutability)
    );
    assert_eq!(
        err(ops(json!([{"op": "replace", "path": "id", "value": "x"}]))).scim_type,
        Some(crate::ScimType::Mutability)
    );
    assert_eq!(
        err(ops(
            json!([{"op": "replace", "path": "meta.created", "value": "x"}])
        ))
        .scim_type,
        Some(crate::ScimType::Mutability)
    );
    assert_eq!(
        err(ops(json!([{"op": "move", "path": "x"}]))).scim_type,
        Some(crate::ScimType::InvalidSyntax)
    );
    assert_eq!(
        err(ops(
            json!([{"op": "add", "path": "name[x eq 1]", "value": 1}])
        ))
        .scim_type,
        Some(crate::ScimType::InvalidPath)
    );
    assert_eq!(
        err(ops(json!([{"op": "add", "path": "emails[", "value": 1}]))).scim_type,
        Some(crate::ScimType::InvalidPath)
    );
    assert_eq!(
        err(ops(
            json!([{"op": "replace", "path": "active", "value": "perhaps"}])
        ))
        .scim_type,
        Some(crate::ScimType::InvalidValue)
    );
    assert_eq!(
        err(ops(json!([{"op": "replace", "value": "x"}]))).scim_type,
        Some(crate::ScimType::InvalidValue)
    );
    assert_eq!(
        err(json!({"Operations": "x"})).scim_type,
        Some(crate::ScimType::InvalidSyntax)
    );
    assert_eq!(
        err(json!({"schemas": ["urn:x"], "Operations": []})).scim_type,
        Some(crate::ScimType::InvalidSyntax)
    );
    let e = err(ops(
        json!([{"op": "add", "path": "title", "value": "x"}, {"op": "replace", "path": "active", "value": 3}]),
    ));
    assert!(e.detail.starts_with("operation 2:"), "{}", e.detail);
}

#[test]
fn atomic_original_untouched_on_error() {
    let res = base();
    let before = res.clone();
    let r = run(
        user(),
        &res,
        ops(
            json!([{"op": "replace", "path": "title", "value": "x"}, {"op": "remove", "path": "userName"}]),
        ),
    );
    assert!(r.is_err());
    assert_eq!(res, before);
}

#[test]
fn unknown_attributes_are_kept_and_removable() {
    let r = patch(ops(
        json!([{"op": "add", "path": "favouriteColour", "value": "green"}]),
    ));
    assert_eq!(r["favouriteColour"], json!("green"));
    let r = patch(ops(json!([{"op": "add", "value": {"nickname2": 1}}])));
    assert_eq!(r["nickname2"], json!(1));
}

#[test]
fn empty_operations_are_a_no_op() {
    assert_eq!(
        patch(json!({"schemas": [PATCH_SCHEMA], "Operations": []})),
        Value::Object(base())
    );
}

#[test]
fn enterprise_manager_as_string_or_object() {
    for v in [
        json!("boss-id"),
        json!({"value": "boss-id"}),
        json!([{"$ref": "../Users/boss-id", "value": "boss-id"}]),
    ] {
        let r = patch(ops(
            json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": v}]),
        ));
        assert_eq!(
            r["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
            json!("boss-id")
        );
    }
}

fn group() -> &'static ResourceType {
    ResourceType::of(ResourceKind::Group)
}

fn group_changes(list: Value) -> ScimResult<Patched> {
    let g = json!({"displayName": "Eng"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    run(group(), &g, ops(list))
}

#[test]
fn member_changes_in_every_client_shape() {
    let p = group_changes(json!([
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "u2", "display": "x"}]},
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]},
        {"op": "remove", "path": "members[value eq \"u2\"]"},
        {"op": "remove", "path": "members[value eq \"u3\" or value eq \"u4\"]"},
        {"op": "remove", "path": "members[display eq \"Bob\"]"},
        {"op": "replace", "path": "members", "value": [{"value": "u9"}]},
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": "bare-id"},
        {"op": "replace", "value": {"id": "g1", "displayName": "Eng 2", "members": [{"value": "u5"}]}}
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.resource,
        json!({"displayName": "Eng 2"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    );
    assert_eq!(
        p.members,
        vec![
            MemberChange::Add(vec![json!({"value": "u1"}), json!({"value": "u2"})]),
            // Three removals by id in a row are one.
            MemberChange::Remove(vec!["u1".into(), "u2".into(), "u3".into(), "u4".into()]),
            MemberChange::RemoveMatching(
                Filter::parse("display eq \"Bob\"").unwrap_or_else(|e| panic!("{e}"))
            ),
            MemberChange::Replace(vec![json!({"value": "u9"})]),
            MemberChange::RemoveAll,
            MemberChange::Add(vec![json!({"value": "bare-id"})]),
            MemberChange::Replace(vec![json!({"value": "u5"})]),
        ]
    );
    let e = group_changes(
        json!([{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "x"}]),
    );
    assert_eq!(
        e.err().and_then(|e| e.scim_type),
        Some(crate::ScimType::Mutability)
    );
    let e = group_changes(json!([{"op": "replace", "path": "displayName", "value": null}]));
    assert!(e.is_err(), "displayName is required");
}

#[test]
fn consecutive_member_changes_of_one_kind_fold_and_keep_their_order() {
    let removes: Vec<Value> = (0..100)
        .map(|i| json!({"op": "remove", "path": format!("members[value eq \"u{i}\"]")}))
        .collect();
    let p = group_changes(Value::Array(removes)).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
    assert_eq!(p.members, vec![MemberChange::Remove(ids)]);
    // An add between removals keeps them apart: the order of adds and removes decides.
    let p = group_changes(json!([
        {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        {"op": "add", "path": "members", "value": [{"value": "u2"}]},
        {"op": "remove", "path": "members[value eq \"u1\"]"},
        {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        {"op": "remove", "path": "members[display eq \"x\"]"},
        {"op": "remove", "path": "members[value eq \"u3\"]"}
    ]))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.members,
        vec![
            MemberChange::Add(vec![json!({"value": "u1"}), json!({"value": "u2"})]),
            MemberChange::Remove(vec!["u1".into()]),
            MemberChange::Add(vec![json!({"value": "u1"})]),
            MemberChange::RemoveMatching(
                Filter::parse("display eq \"x\"").unwrap_or_else(|e| panic!("{e}"))
            ),
            MemberChange::Remove(vec!["u3".into()]),
        ]
    );
}

#[test]
fn write_only_password_is_accepted_and_never_stored() {
    for op in [
        json!({"op": "add", "path": "password", "value": "s3cret"}),
        json!({"op": "replace", "path": "PASSWORD", "value": "s3cret"}),
        json!({"op": "replace", "value": {"password": "s3cret"}}),
    ] {
        let r = patch(ops(json!([op.clone()])));
        assert!(r.get("password").is_none(), "{op}");
        assert!(!r.to_string().contains("s3cret"), "{op}");
    }
    assert!(
        run(
            user(),
            &base(),
            ops(json!([{"op": "remove", "path": "password"}]))
        )
        .is_ok()
    );
}
