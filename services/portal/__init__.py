"""The web portal: pages for employees, supervisors and HR in Bahasa Indonesia (English on request).

It renders HTML on the server and calls the four services' APIs with the signed-in user's token;
it owns no domain data (no database, no events)."""
