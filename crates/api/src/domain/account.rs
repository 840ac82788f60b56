use aura_types::{
    check_new_password, parse_text, AcceptInvitationRequest, CreateApiKeyRequest,
    CreateInvitationRequest, EmailAddress, FieldErrors, Role, SignupRequest, NAME_MAX_CHARS,
};

/// A sign-up whose every field is valid.
#[derive(Debug)]
pub struct NewSignup {
    pub email: EmailAddress,
    pub password: String,
    pub name: String,
    pub organization_name: String,
}

impl TryFrom<SignupRequest> for NewSignup {
    type Error = FieldErrors;
    fn try_from(r: SignupRequest) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::new();
        let email = errs.check("email", EmailAddress::parse(&r.email));
        errs.check("password", check_new_password(&r.password));
        let name = errs.check("name", parse_text(&r.name, NAME_MAX_CHARS));
        let organization_name = errs.check(
            "organization_name",
            parse_text(&r.organization_name, NAME_MAX_CHARS),
        );
        errs.finish(|| {
            Some(NewSignup {
                email: email?,
                password: r.password,
                name: name?,
                organization_name: organization_name?,
            })
        })
    }
}

#[derive(Debug)]
pub struct NewInvitation {
    pub email: EmailAddress,
    pub role: Role,
}

impl TryFrom<CreateInvitationRequest> for NewInvitation {
    type Error = FieldErrors;
    fn try_from(r: CreateInvitationRequest) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::new();
        let email = errs.check("email", EmailAddress::parse(&r.email));
        errs.finish(|| {
            Some(NewInvitation {
                email: email?,
                role: r.role,
            })
        })
    }
}

/// Accepting an invitation: either with an existing account's password, or creating an account.
#[derive(Debug)]
pub struct Acceptance {
    pub token: String,
    pub name: Option<String>,
    pub password: String,
}

impl TryFrom<AcceptInvitationRequest> for Acceptance {
    type Error = FieldErrors;
    fn try_from(r: AcceptInvitationRequest) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::new();
        let token = errs.check("token", parse_text(&r.token, 200));
        if r.password.is_empty() {
            errs.add("password", "is required");
        }
        let name = match r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => errs.check("name", parse_text(n, NAME_MAX_CHARS)),
            None => None,
        };
        errs.finish(|| {
            Some(Acceptance {
                token: token?,
                name,
                password: r.password,
            })
        })
    }
}

impl Acceptance {
    /// The fields a new account needs on top of an existing one's.
    pub fn new_account_fields(&self) -> Result<String, FieldErrors> {
        let mut errs = FieldErrors::new();
        if self.name.is_none() {
            errs.add("name", "is required to create your account");
        }
        errs.check("password", check_new_password(&self.password));
        errs.finish(|| self.name.clone())
    }
}

#[derive(Debug)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
}

impl TryFrom<CreateApiKeyRequest> for NewApiKey {
    type Error = FieldErrors;
    fn try_from(r: CreateApiKeyRequest) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::new();
        let name = errs.check("name", parse_text(&r.name, 80));
        errs.finish(|| {
            Some(NewApiKey {
                name: name?,
                role: r.role,
            })
        })
    }
}

/// Why a role change or removal is not allowed.
#[derive(Debug, PartialEq, Eq)]
pub enum MembershipRefusal {
    /// The caller's role may not touch this member or grant this role (403).
    NotAllowed,
    /// It would leave the organization without an owner (409).
    LastOwner,
}

/// Whether `caller` (with `caller_role`) may change `target` from `current` to `new` (`None` =
/// remove), given the owners of the organization.
pub fn check_membership_change(
    caller_role: Role,
    is_self: bool,
    current: Role,
    new: Option<Role>,
    owner_count: usize,
) -> Result<(), MembershipRefusal> {
    let leaving = is_self && new.is_none();
    let allowed =
        leaving || (caller_role.can_grant(current) && new.is_none_or(|r| caller_role.can_grant(r)));
    if !allowed {
        return Err(MembershipRefusal::NotAllowed);
    }
    let stops_being_owner = current == Role::Owner && new != Some(Role::Owner);
    if stops_being_owner && owner_count <= 1 {
        return Err(MembershipRefusal::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signup_names_every_bad_field() {
        let errs = NewSignup::try_from(SignupRequest {
            email: "nope".into(),
            password: "short".into(),
            name: " ".into(),
            organization_name: "Acme".into(),
        })
        .unwrap_err();
        assert_eq!(
            errs.0.keys().collect::<Vec<_>>(),
            vec!["email", "name", "password"]
        );
    }

    #[test]
    fn admins_cannot_touch_owners_and_members_cannot_manage() {
        use MembershipRefusal::*;
        assert_eq!(
            check_membership_change(Role::Admin, false, Role::Owner, Some(Role::Member), 2),
            Err(NotAllowed)
        );
        assert_eq!(
            check_membership_change(Role::Admin, false, Role::Member, Some(Role::Owner), 2),
            Err(NotAllowed)
        );
        assert_eq!(
            check_membership_change(Role::Member, false, Role::Member, None, 2),
            Err(NotAllowed)
        );
        assert_eq!(
            check_membership_change(Role::Admin, false, Role::Member, Some(Role::Admin), 1),
            Ok(())
        );
        assert_eq!(
            check_membership_change(Role::Member, true, Role::Member, None, 1),
            Ok(()),
            "anyone may leave"
        );
    }

    #[test]
    fn the_last_owner_stays() {
        use MembershipRefusal::*;
        assert_eq!(
            check_membership_change(Role::Owner, true, Role::Owner, Some(Role::Admin), 1),
            Err(LastOwner)
        );
        assert_eq!(
            check_membership_change(Role::Owner, true, Role::Owner, None, 1),
            Err(LastOwner)
        );
        assert_eq!(
            check_membership_change(Role::Owner, false, Role::Owner, None, 2),
            Ok(())
        );
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![Just(Role::Member), Just(Role::Admin), Just(Role::Owner)]
    }

    proptest! {
        /// Whatever the change, an allowed change never leaves an organization without an owner,
        /// and nobody ends up with a role above their own unless an owner granted it.
        #[test]
        fn allowed_changes_keep_an_owner(caller in role(), current in role(), new in proptest::option::of(role()), owners in 1usize..4, is_self: bool) {
            let owners = if current == Role::Owner { owners } else { owners.max(1) };
            if check_membership_change(caller, is_self, current, new, owners).is_ok() {
                let owners_after = owners - usize::from(current == Role::Owner && new != Some(Role::Owner));
                prop_assert!(owners_after >= 1);
                if let Some(r) = new { prop_assert!(r <= caller); }
            }
        }
    }
}
