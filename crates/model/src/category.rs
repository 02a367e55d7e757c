//! The closed vocabularies of the schema: which kind of event, how severe, how an HTTP
//! exchange ended and what a database statement did.

use crate::keyword::keyword_enum;

keyword_enum! {
    /// The `log_category` of an event; it decides the data stream
    /// (`logs-<category>-default`) the event is routed to.
    pub enum LogCategory as "log_category" {
        /// An HTTP request served by the service.
        ApiRequest = "api_request",
        /// A database operation performed by the service.
        Database = "database",
        /// An outgoing call from one service to another.
        InterService = "inter_service",
        /// A periodic sample of resource usage and latency percentiles.
        Performance = "performance",
        /// A security-relevant user action (sign-up, login, logout, …).
        Audit = "audit",
    }
}

keyword_enum! {
    /// The `level` of an event, from least to most severe.
    ///
    /// The declaration order is the severity order, so `Ord` compares severities.
    #[derive(PartialOrd, Ord)]
    pub enum Level as "level" {
        /// Diagnostic detail, usually off in production.
        Debug = "debug",
        /// Normal operation.
        Info = "info",
        /// Something unexpected that the service handled; `warn` is accepted as well.
        Warning = "warning" | "warn",
        /// An operation failed.
        Error = "error",
        /// The service itself is in trouble.
        Critical = "critical",
    }
}

keyword_enum! {
    /// The `response_category` of an HTTP exchange, derived from its status code so
    /// dashboards can group without range queries.
    pub enum ResponseCategory as "response_category" {
        /// 2xx (and, leniently, anything below 300).
        Success = "success",
        /// 3xx.
        Redirect = "redirect",
        /// 4xx.
        ClientError = "client_error",
        /// 5xx (and, leniently, anything above).
        ServerError = "server_error",
    }
}

impl ResponseCategory {
    /// Classifies an HTTP status code.
    ///
    /// Codes below 200 (informational, or invalid) count as success: they are never a final
    /// answer to a completed request, and counting them as errors would raise false alerts.
    /// Codes of 600 and above are outside HTTP and count as server errors.
    ///
    /// ```
    /// use logfleet_model::ResponseCategory;
    ///
    /// assert_eq!(ResponseCategory::from_status(204), ResponseCategory::Success);
    /// assert_eq!(ResponseCategory::from_status(503), ResponseCategory::ServerError);
    /// ```
    pub const fn from_status(status_code: u16) -> Self {
        match status_code {
            0..=299 => Self::Success,
            300..=399 => Self::Redirect,
            400..=499 => Self::ClientError,
            _ => Self::ServerError,
        }
    }
}

keyword_enum! {
    /// The `db_action` of a database event: which CRUD verb the statement performed.
    pub enum DbAction as "db_action" {
        /// An insert.
        Create = "create",
        /// A select.
        Read = "read",
        /// An update.
        Update = "update",
        /// A delete.
        Delete = "delete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_category_round_trips_through_str_and_serde() {
        for &category in LogCategory::ALL {
            assert_eq!(category.as_str().parse::<LogCategory>(), Ok(category));
            assert_eq!(category.to_string(), category.as_str());
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.as_str()));
            assert_eq!(
                serde_json::from_str::<LogCategory>(&json).unwrap(),
                category
            );
        }
        let spellings: Vec<&str> = LogCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spellings,
            [
                "api_request",
                "database",
                "inter_service",
                "performance",
                "audit"
            ]
        );
    }

    #[test]
    fn level_round_trips_and_accepts_warn() {
        for &level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            let json = serde_json::to_value(level).unwrap();
            assert_eq!(serde_json::from_value::<Level>(json).unwrap(), level);
        }
        assert_eq!("warn".parse::<Level>(), Ok(Level::Warning));
        assert_eq!(Level::Warning.as_str(), "warning");
        assert_eq!(
            serde_json::from_str::<Level>("\"warn\"").unwrap(),
            Level::Warning
        );
    }

    #[test]
    fn parsing_ignores_ascii_case_like_python_logging_level_names() {
        assert_eq!("WARNING".parse::<Level>(), Ok(Level::Warning));
        assert_eq!("Critical".parse::<Level>(), Ok(Level::Critical));
        assert_eq!(
            "API_REQUEST".parse::<LogCategory>(),
            Ok(LogCategory::ApiRequest)
        );
    }

    #[test]
    fn level_orders_by_severity() {
        assert!(Level::Debug < Level::Info);
        assert!(Level::Warning < Level::Error);
        assert!(Level::Error < Level::Critical);
    }

    #[test]
    fn unknown_value_is_rejected_with_the_vocabulary_and_choices() {
        let error = "fatal".parse::<Level>().unwrap_err();
        assert_eq!(error.vocabulary(), "level");
        assert_eq!(error.value(), "fatal");
        assert_eq!(
            error.to_string(),
            "unknown level `fatal`, expected one of: debug, info, warning, error, critical"
        );
        let serde_error = serde_json::from_str::<DbAction>("\"upsert\"").unwrap_err();
        assert!(
            serde_error
                .to_string()
                .contains("unknown db_action `upsert`")
        );
        assert!(serde_json::from_str::<DbAction>("3").is_err());
    }

    #[test]
    fn response_category_and_db_action_round_trip() {
        for &category in ResponseCategory::ALL {
            assert_eq!(category.as_str().parse::<ResponseCategory>(), Ok(category));
        }
        for &action in DbAction::ALL {
            assert_eq!(action.as_str().parse::<DbAction>(), Ok(action));
        }
        assert_eq!(ResponseCategory::ClientError.as_str(), "client_error");
        assert_eq!(DbAction::Delete.as_str(), "delete");
    }

    #[test]
    fn response_category_boundaries() {
        let cases = [
            (0, ResponseCategory::Success),
            (99, ResponseCategory::Success),
            (101, ResponseCategory::Success),
            (199, ResponseCategory::Success),
            (200, ResponseCategory::Success),
            (299, ResponseCategory::Success),
            (300, ResponseCategory::Redirect),
            (399, ResponseCategory::Redirect),
            (400, ResponseCategory::ClientError),
            (499, ResponseCategory::ClientError),
            (500, ResponseCategory::ServerError),
            (599, ResponseCategory::ServerError),
            (600, ResponseCategory::ServerError),
            (u16::MAX, ResponseCategory::ServerError),
        ];
        for (status_code, expected) in cases {
            assert_eq!(
                ResponseCategory::from_status(status_code),
                expected,
                "status {status_code}"
            );
        }
    }

    #[test]
    fn converts_into_json_value_as_its_string() {
        assert_eq!(
            serde_json::Value::from(ResponseCategory::ServerError),
            serde_json::json!("server_error")
        );
    }
}
