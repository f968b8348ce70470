"""The reviewer console's pages under `/review`: sign-in, sessions, CSRF, and what follows."""
