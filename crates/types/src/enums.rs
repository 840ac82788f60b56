//! Closed sets of values (statuses, kinds) shared by the API, the database and the web app.

/// Declares a snake_case string enum with the database mapping (feature `server`), `ALL`,
/// `as_str` and a human `label`.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident as $pg:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "server", derive(sqlx::Type, utoipa::ToSchema))]
        #[cfg_attr(feature = "server", sqlx(type_name = $pg, rename_all = "snake_case"))]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// How the value is shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The value named `s` (its snake_case name).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
