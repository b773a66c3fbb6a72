"""The tables of the hall configuration schema, by concern; `hallcore.config` gathers them into `HallConfig`
and is where every other module imports them from."""
