//! Inline SVG icons (24×24, stroked), drawn for Aura.

macro_rules! icon {
    ($name:ident, $paths:literal) => {
        pub const $name: &str = concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round" class="h-5 w-5" aria-hidden="true">"#,
            $paths,
            "</svg>"
        );
    };
}

icon!(
    HOME,
    r#"<path d="M3 11.5 12 4l9 7.5"/><path d="M5.5 10v9.5h13V10"/><path d="M10 19.5v-5h4v5"/>"#
);
icon!(
    USERS,
    r#"<circle cx="9" cy="8" r="3.2"/><path d="M3.5 19c.6-3.2 2.8-5 5.5-5s4.9 1.8 5.5 5"/><circle cx="17" cy="9" r="2.4"/><path d="M16.5 14.2c2.2.2 3.6 1.8 4 4.3"/>"#
);
icon!(
    MEGAPHONE,
    r#"<path d="M4 10v4h3l7 4.5v-13L7 10H4z"/><path d="M17.5 9a4 4 0 0 1 0 6"/><path d="M7 14l1.2 5h2.3L9.6 14"/>"#
);
icon!(
    INBOX,
    r#"<path d="M4 13.5 6.5 5h11l2.5 8.5V19H4v-5.5z"/><path d="M4 13.5h4.5l1 2h5l1-2H20"/>"#
);
icon!(
    TEMPLATE,
    r#"<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M4 9h16"/><path d="M9 9v11"/>"#
);
icon!(
    SETTINGS,
    r#"<circle cx="12" cy="12" r="3"/><path d="M12 3v2.2M12 18.8V21M4.2 7.5l1.9 1.1M17.9 15.4l1.9 1.1M4.2 16.5l1.9-1.1M17.9 8.6l1.9-1.1M3 12h2.2M18.8 12H21"/>"#
);
icon!(
    KEY,
    r#"<circle cx="8" cy="15" r="3.5"/><path d="M10.5 12.5 19 4"/><path d="M16 7l2.5 2.5"/><path d="M14 9l2 2"/>"#
);
icon!(
    BUILDING,
    r#"<path d="M4 20V6l8-3v17"/><path d="M12 9h8v11"/><path d="M7 8h2M7 12h2M7 16h2M15 13h2M15 16h2"/><path d="M2.5 20h19"/>"#
);
icon!(PLUS, r#"<path d="M12 5v14M5 12h14"/>"#);
icon!(CHECK, r#"<path d="m5 12.5 4.5 4.5L19 7.5"/>"#);
icon!(CHEVRON_DOWN, r#"<path d="m6 9 6 6 6-6"/>"#);
icon!(CHEVRON_RIGHT, r#"<path d="m9 6 6 6-6 6"/>"#);
icon!(
    COPY,
    r#"<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2"/>"#
);
icon!(
    LOGOUT,
    r#"<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 16l-4-4 4-4"/><path d="M6 12h10"/>"#
);
icon!(
    ALERT,
    r#"<path d="M12 4 2.8 19.5h18.4L12 4z"/><path d="M12 10v4.2M12 17h.01"/>"#
);
icon!(X, r#"<path d="M6 6l12 12M18 6 6 18"/>"#);
icon!(
    MAIL,
    r#"<rect x="3" y="5.5" width="18" height="13" rx="2"/><path d="m3.5 7 8.5 6 8.5-6"/>"#
);
icon!(
    BOOK,
    r#"<path d="M5 4.5h9.5a3 3 0 0 1 3 3V20H8a3 3 0 0 1-3-3V4.5z"/><path d="M5 17a3 3 0 0 1 3-3h9.5"/>"#
);
icon!(
    SPARKLES,
    r#"<path d="M12 3.5 13.8 9l5.7 1.8-5.7 1.8L12 18l-1.8-5.4L4.5 10.8 10.2 9z"/><path d="M19 3v4M17 5h4"/>"#
);
icon!(
    SEND,
    r#"<path d="M4 12 20 4l-5 16-3.5-6.5L4 12z"/><path d="m11.5 13.5 4-4"/>"#
);
icon!(
    PHONE,
    r#"<rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 17.5h2"/>"#
);
