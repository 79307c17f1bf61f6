-- v6: Routing attributes of conversations

-- What routing may use of the customer's context: written whenever the context card
-- is, through the consent gate, so a withdrawn category is gone from here at once.
ALTER TABLE conversation ADD COLUMN task TEXT NOT NULL DEFAULT '';
