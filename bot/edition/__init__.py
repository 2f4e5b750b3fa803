"""The edition: select the week's candidates, summarize them (model or offline), compose, render."""
