-- One database per service (each service owns its data).
CREATE DATABASE plantrack_assignments;
CREATE DATABASE plantrack_notifications;
CREATE DATABASE plantrack_reporting;
