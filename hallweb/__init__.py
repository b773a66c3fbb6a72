"""The look shared by the hall's web pages (hallserver/web) and the centre's (hallcentral): one stylesheet,
one page layout, escaped text and tables. No I/O and no package of ours: both servers import it."""
