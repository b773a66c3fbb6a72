"""The reply types of the hall API, by concern; `hallcore.replies` gathers them with the HTTP statuses and is
where every other module imports them from."""
