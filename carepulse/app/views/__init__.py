"""One module per explorer page; each has `render(connection, present)`.

Not named `pages/`: Streamlit would take a `pages/` folder beside the main script for its
own multipage navigation and list every module in it as a page.
"""
