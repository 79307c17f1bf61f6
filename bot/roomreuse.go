package bot

// RoomOfAnotherConversation declines a room that already served a conversation with
// another business, or with another customer: each customer room serves one customer
// and one business, so that nothing of one conversation reaches another.
const RoomOfAnotherConversation = "This room already belongs to another conversation, so we cannot talk here. Please start a new direct chat with us."
